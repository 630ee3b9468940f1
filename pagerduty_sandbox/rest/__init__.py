"""REST API v2 resources; importing this package registers every route."""

from pagerduty_sandbox.rest import (  # noqa: F401 - modules register routes
    alerts,
    dependencies,
    incident_context,
    incidents,
    oncall,
    people,
    schedules_v3,
    service_config,
    services,
    webhooks,
)
from pagerduty_sandbox.rest.registry import ROUTES

__all__ = ["ROUTES"]
