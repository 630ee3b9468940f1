"""REST API v2 resources; importing this package registers every route."""

from pagerduty_sandbox.rest import (  # noqa: F401 - modules register routes
    incidents,
    oncall,
    people,
    services,
    webhooks,
)
from pagerduty_sandbox.rest.registry import ROUTES

__all__ = ["ROUTES"]
