"""Errors raised when talking to PagerDuty; views turn them into messages."""


class PagerDutyError(Exception):
    """PagerDuty refused or failed a request; the message is safe to show."""


class PagerDutyAuthError(PagerDutyError):
    """401 or 403: the token is expired, revoked or lacks a scope."""


class PagerDutyRateLimited(PagerDutyError):
    """429: the per-user, per-app budget is spent for now."""

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class PagerDutyUnavailable(PagerDutyError):
    """5xx, a timeout or a connection failure."""
