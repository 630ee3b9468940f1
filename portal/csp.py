"""Content Security Policy with the PagerDuty identity host as a form target.

Connect PagerDuty is a form POST answered by a redirect to PagerDuty's
authorize page; browsers apply `form-action` to that redirect too, so the
identity host (a setting, and the sandbox's in tests) must be allowed.
"""

from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware
from django.conf import settings


def identity_origin() -> str:
    parts = urlsplit(settings.PAGERDUTY_IDENTITY_URL)
    return f"{parts.scheme}://{parts.netloc}"


class PortalCSPMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only)
        update = dict(parts.update or {})
        update["form-action"] = [
            *update.get("form-action", []),
            identity_origin(),
        ]
        parts.update = update
        return parts
