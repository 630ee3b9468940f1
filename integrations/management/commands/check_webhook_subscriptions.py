"""Read each live webhook subscription's state from PagerDuty (run hourly)."""

from collections import Counter

from django.core.management.base import BaseCommand

from integrations.models import Connection, WebhookSubscription
from integrations.services.webhooks import webhook_subscription_sync


class Command(BaseCommand):
    help = "Record PagerDuty's temporary disable (or deletion) of subscriptions."

    def handle(self, *args, **options):
        subscriptions = (
            WebhookSubscription.objects.select_related("connection__tenant")
            .filter(connection__status=Connection.Status.ACTIVE)
            .exclude(pd_subscription_id="")
            .exclude(status=WebhookSubscription.Status.FAILED)
            .order_by("pk")
        )
        counts = Counter(
            webhook_subscription_sync(subscription=subscription).status
            for subscription in subscriptions
        )
        summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        self.stdout.write(f"Checked subscriptions: {summary or 'none'}.")
