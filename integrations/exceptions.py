"""Errors raised when talking to PagerDuty; views turn them into messages."""


class PagerDutyError(Exception):
    """PagerDuty refused or failed a request; the message is safe to show.

    `status` is the HTTP status, `code` PagerDuty's own error code (for
    example 1001, "Incident Already Resolved") and `errors` its details,
    when known.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        errors: tuple[str, ...] = (),
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.errors = errors


class PagerDutyAuthError(PagerDutyError):
    """401 or 403: the token is expired, revoked or lacks a scope.

    `required_scope` names the missing scope of a 403 when it is known.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        required_scope: str = "",
    ):
        super().__init__(message, status=status, code=code)
        self.required_scope = required_scope


class PagerDutyRateLimited(PagerDutyError):
    """429: the per-user, per-app budget is spent for now."""

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message, status=429, code=2020)
        self.retry_after = retry_after


class PagerDutyUnavailable(PagerDutyError):
    """5xx, a timeout or a connection failure."""


class PagerDutyOffsetCapReached(PagerDutyError):
    """A classic-pagination query would pass PagerDuty's 10,000-result cap."""

    def __init__(self, message: str, *, offset: int, limit: int):
        super().__init__(message, status=400)
        self.offset = offset
        self.limit = limit
