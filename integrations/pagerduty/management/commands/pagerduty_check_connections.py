"""Find connections PagerDuty no longer accepts; schedule it hourly."""

from datetime import timedelta

from django.core.management.base import BaseCommand

from integrations.services.connections import connection_check


class Command(BaseCommand):
    help = (
        "Ask PagerDuty once with each active connection (one incident read) "
        "and mark those it refuses as needing a reconnect, so the Tenants "
        "page shows it even for tenants nobody is using."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--idle-hours",
            type=int,
            default=0,
            help="Only check connections not refreshed for this many hours.",
        )

    def handle(self, *args, **options):
        result = connection_check(idle_for=timedelta(hours=options["idle_hours"]))
        self.stdout.write(
            f"Checked {result.checked}; need reconnect {result.needs_reconnect}; "
            f"PagerDuty unavailable {result.unavailable}."
        )
        if result.unavailable:
            # Non-zero so a scheduler can alert and retry later.
            raise SystemExit(1)
