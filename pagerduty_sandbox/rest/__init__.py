"""REST API v2 resources; importing this package registers every route."""

from pagerduty_sandbox.rest import people  # noqa: F401 - modules register routes
from pagerduty_sandbox.rest.registry import ROUTES

__all__ = ["ROUTES"]
