"""One log line per event, tagged with the request's id, with secrets masked."""

import contextvars
import logging
import re
import uuid

from django.views.debug import SafeExceptionReporterFilter

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar(
    "request_id", default="-"
)
INCOMING_ID_RE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# Defence in depth: code never logs secrets on purpose, but a third-party
# library's debug line (a URL with a code, a form body) must not leak either.
SECRET_PATTERNS = [
    re.compile(r"pdus\+_[A-Za-z0-9_+/=.-]+"),
    re.compile(
        r"(?i)((?:access_token|refresh_token|id_token|client_secret|code_verifier"
        r"|code|token|secret|password)[\"']?\s*[=:]\s*[\"']?)[^&\s\"',}]+"
    ),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9_+/=.-]+"),
]


def redact(text: str) -> str:
    """Return `text` with token-shaped values and secret parameters masked."""
    text = SECRET_PATTERNS[0].sub("[redacted]", text)
    text = SECRET_PATTERNS[1].sub(r"\1[redacted]", text)
    return SECRET_PATTERNS[2].sub(r"\1[redacted]", text)


class RequestIdFilter(logging.Filter):
    """Attach the current request id to every record."""

    def filter(self, record):
        record.request_id = request_id_var.get()
        return True


class RedactingFormatter(logging.Formatter):
    """Format on one line (tracebacks folded) and mask secrets."""

    def format(self, record):
        return redact(super().format(record)).replace("\n", " | ")


class RequestIdMiddleware:
    """Give each request an id (or keep a sane incoming X-Request-ID)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if INCOMING_ID_RE.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


class SecretScrubbingReporterFilter(SafeExceptionReporterFilter):
    """Hide secrets in 500 reports' frame variables, not only settings.

    Django cleanses locals only under `@sensitive_variables`, and library
    frames (requests holding a token request's form body) have none; here
    any variable named like a secret, or whose value shows a secret
    parameter or token shape, is starred out.
    """

    def get_traceback_frame_variables(self, request, tb_frame):
        variables = super().get_traceback_frame_variables(request, tb_frame)
        if not self.is_active(request):
            return variables
        cleansed = []
        for name, value in variables:
            text = repr(value)
            if self.hidden_settings.search(name) or redact(text) != text:
                value = self.cleansed_substitute
            cleansed.append((name, value))
        return cleansed
