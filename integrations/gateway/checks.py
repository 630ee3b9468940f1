"""System checks: the OAuth issuer must be exactly the portal's base URL."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security)
def issuer_matches_base_url(app_configs, **kwargs):
    """Clients abort when `iss` differs from the metadata's `issuer` by a byte."""
    configured = settings.OAUTH2_PROVIDER.get("OIDC_ISS_ENDPOINT", "")
    if configured != settings.PORTAL_BASE_URL:
        return [
            checks.Error(
                "OAUTH2_PROVIDER['OIDC_ISS_ENDPOINT'] must equal PORTAL_BASE_URL.",
                hint="Leave it as portal/settings/base.py derives it.",
                id="gateway.E001",
            )
        ]
    return []
