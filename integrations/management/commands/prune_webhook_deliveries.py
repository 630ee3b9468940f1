"""Delete webhook deliveries past the dedupe retention (run daily)."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from integrations.services.webhooks import RETENTION, webhook_delivery_prune


class Command(BaseCommand):
    help = "Delete PagerDuty webhook deliveries older than the retention (72 h)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--hours",
            type=int,
            default=int(RETENTION.total_seconds() // 3600),
            help="Keep deliveries this many hours (at least 72).",
        )

    def handle(self, *args, hours, **options):
        try:
            deleted = webhook_delivery_prune(older_than=timedelta(hours=hours))
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Deleted {deleted} webhook deliveries.")
