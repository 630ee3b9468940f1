"""What an agent is told when a tool cannot do its job.

Only a ToolError's message reaches the agent; it says what the agent (or
the person behind it) can do next and never carries a token, a stack trace
or an upstream body.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from integrations.exceptions import (
    PagerDutyAuthError,
    PagerDutyError,
    PagerDutyRateLimited,
    PagerDutyUnavailable,
)
from integrations.pagerduty.workspace.access import (
    InvalidInput,
    LinkRequired,
    MissingScope,
    NotAllowed,
    WorkspaceError,
)


class ToolError(Exception):
    """A failure the agent may read: `code` for the audit, `message` for it."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "tool_error",
        retryable: bool = False,
        retry_after: int | None = None,
        pagerduty_status: int | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.retryable = retryable
        self.retry_after = retry_after
        self.pagerduty_status = pagerduty_status

    def as_structured(self) -> dict:
        error = {
            "code": self.code,
            "message": self.message,
            "retryable": self.retryable,
        }
        if self.retry_after is not None:
            error["retry_after_seconds"] = self.retry_after
        return {"error": error}


def reconnect_message(tenant) -> str:
    return _(
        "The PagerDuty connection of %(tenant)s needs a reconnect: its access "
        "expired or was revoked. A tenant admin must reconnect PagerDuty in "
        "the portal; this agent keeps its authorization."
    ) % {"tenant": tenant.name}


def from_workspace(exc: WorkspaceError, *, tenant) -> ToolError:
    """Map the workspace's refusal (made before any PagerDuty call)."""
    if isinstance(exc, LinkRequired):
        url = settings.PORTAL_BASE_URL + reverse(
            "integrations:tenant_home", args=[tenant.pk]
        )
        return ToolError(
            _(
                "This needs the person you act for to link their own PagerDuty "
                "account, so that it is done in PagerDuty as them: ask them to "
                "open %(url)s and click “Link my PagerDuty account”."
            )
            % {"url": url},
            code="link_required",
        )
    if isinstance(exc, InvalidInput):
        return ToolError(
            _("Invalid arguments (%(field)s): %(message)s")
            % {"field": exc.field, "message": exc.message},
            code="invalid_arguments",
        )
    codes = {NotAllowed: "not_allowed", MissingScope: "pagerduty_scope_missing"}
    return ToolError(exc.message, code=codes.get(type(exc), exc.code))


def from_pagerduty(exc: PagerDutyError, *, tenant, scopes) -> ToolError:
    """Map a PagerDuty failure to what the agent can act on."""
    status = exc.status
    if isinstance(exc, PagerDutyAuthError):
        if status == 403:
            scope = exc.required_scope or " ".join(sorted(scopes))
            return ToolError(
                _(
                    "PagerDuty refused: the connection of %(tenant)s lacks the "
                    "PagerDuty permission %(scope)s. A tenant admin can "
                    "reconnect PagerDuty granting it."
                )
                % {"tenant": tenant.name, "scope": scope},
                code="pagerduty_scope_missing",
                pagerduty_status=403,
            )
        return ToolError(
            reconnect_message(tenant),
            code="reconnect_needed",
            pagerduty_status=status or 401,
        )
    if isinstance(exc, PagerDutyRateLimited):
        return ToolError(
            _("PagerDuty is rate limiting this connection; retry after %(n)s s.")
            % {"n": exc.retry_after},
            code="rate_limited",
            retryable=True,
            retry_after=exc.retry_after,
            pagerduty_status=429,
        )
    if isinstance(exc, PagerDutyUnavailable):
        return ToolError(
            _("PagerDuty is unavailable or did not answer in time; retry shortly."),
            code="pagerduty_unavailable",
            retryable=True,
            pagerduty_status=status,
        )
    if status == 404:
        return ToolError(
            _("Not found in PagerDuty: %(message)s") % {"message": exc.message},
            code="not_found",
            pagerduty_status=404,
        )
    if status is not None and status >= 500:
        return ToolError(
            _("PagerDuty failed (%(status)s); retry shortly.") % {"status": status},
            code="pagerduty_unavailable",
            retryable=True,
            pagerduty_status=status,
        )
    return ToolError(
        _("PagerDuty refused the request: %(message)s") % {"message": exc.message},
        code="pagerduty_refused",
        pagerduty_status=status,
    )
