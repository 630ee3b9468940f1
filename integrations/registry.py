"""The integrations the catalog offers, one entry per provider package.

A second provider is one new package under `integrations/` plus one entry
in `INTEGRATIONS`; the catalog and its statuses come from here.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from integrations.models import Provider


@dataclass(frozen=True)
class Integration:
    provider: str
    name: str
    category: str
    summary: str
    icon: str
    # URL name of the configuration page; it takes the environment's slug.
    config_url_name: str

    @property
    def search_text(self) -> str:
        return f"{self.name} {self.category} {self.summary}".lower()


INTEGRATIONS = (
    Integration(
        provider=Provider.PAGERDUTY,
        name="PagerDuty",
        category=_("Incident management"),
        summary=_(
            "Let tenants connect their PagerDuty account to manage incidents, "
            "services, schedules, escalation policies, on-calls, users, teams "
            "and webhook subscriptions."
        ),
        icon="integrations/img/pagerduty.svg",
        config_url_name="integrations:pagerduty_config",
    ),
)


def integration_list(*, query: str = "") -> list[Integration]:
    """Return the registered integrations whose text matches every word."""
    words = query.lower().split()
    return [
        integration
        for integration in INTEGRATIONS
        if all(word in integration.search_text for word in words)
    ]


def integration_get(provider: str) -> Integration | None:
    """Return the registry entry of a provider, or None."""
    return next((i for i in INTEGRATIONS if i.provider == provider), None)
