"""What an agent is told when a tool cannot do its job.

Only a ToolError's message reaches the agent; it says what the agent (or
the person behind it) can do next and never carries a token, a stack trace
or an upstream body.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from integrations.exceptions import (
    PagerDutyAuthError,
    PagerDutyError,
    PagerDutyRateLimited,
    PagerDutyUnavailable,
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
