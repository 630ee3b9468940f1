"""Delete expired MCP tokens and codes and never-used registrations (daily)."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand

from integrations.gateway.services import mcp_authorizations_purge


class Command(BaseCommand):
    help = (
        "Delete expired agent tokens and codes, consents never exchanged, and "
        "registered MCP clients never authorized (README, Running in production)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--unused-hours",
            type=int,
            default=None,
            help="Age after which a never-authorized client is deleted "
            "(default MCP_UNUSED_REGISTRATION_HOURS).",
        )

    def handle(self, *args, unused_hours, **options):
        hours = unused_hours or settings.MCP_UNUSED_REGISTRATION_HOURS
        counts = mcp_authorizations_purge(unused_for=timedelta(hours=hours))
        self.stdout.write(
            f"Deleted {counts['unused_clients']} unused clients and "
            f"{counts['unused_consents']} unused consents; expired tokens and "
            "codes cleared."
        )
