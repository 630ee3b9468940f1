"""Keep idle tenants' PagerDuty connections alive; schedule it daily."""

from datetime import timedelta

from django.core.management.base import BaseCommand

from integrations.services.connections import KEEP_ALIVE_AFTER, connection_keep_alive


class Command(BaseCommand):
    help = (
        "Refresh the tokens of active PagerDuty connections not refreshed for "
        "DAYS days (default 7), before PagerDuty's 30-day refresh-token limit."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=KEEP_ALIVE_AFTER.days)

    def handle(self, *args, **options):
        result = connection_keep_alive(idle_for=timedelta(days=options["days"]))
        self.stdout.write(
            f"Refreshed {result.refreshed}; need reconnect {result.needs_reconnect}; "
            f"PagerDuty unavailable {result.unavailable}."
        )
        if result.unavailable:
            # Non-zero so a scheduler can alert and retry later.
            raise SystemExit(1)
