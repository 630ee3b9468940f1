"""PagerDuty's webhook deliveries: the one CSRF-exempt view of the portal."""

from allauth.account.adapter import get_adapter as get_account_adapter
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.selectors import webhook_subscription_for_receiver
from integrations.services.webhooks import (
    MAX_BODY_BYTES,
    WebhookRefused,
    WebhookUnavailable,
    webhook_receive,
)


def _answer(status: int, text: str) -> HttpResponse:
    response = HttpResponse(text, status=status, content_type="text/plain")
    if status == 503:
        response["Retry-After"] = "30"
    elif status == 429:
        response["Retry-After"] = "60"
    return response


def _source(request) -> str:
    # The address allauth's login rate limits count, so both honour
    # ALLAUTH_TRUSTED_PROXY_COUNT behind a proxy the same way.
    try:
        return get_account_adapter(request).get_client_ip(request)
    except PermissionDenied:
        return "unknown"


# PagerDuty signs instead of sending a CSRF token; the signature check below
# is what authenticates a delivery.
@csrf_exempt
@require_POST
@never_cache
def pagerduty_webhook(request, receiver_id):
    """Accept one signed PagerDuty delivery with 202, or refuse it."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _answer(400, "Bad Content-Length")
    if length > MAX_BODY_BYTES:
        return _answer(413, "Body too large")
    if request.content_type != "application/json":
        return _answer(415, "Expected application/json")
    try:
        subscription = webhook_subscription_for_receiver(receiver_id=receiver_id)
        if subscription is None:
            return _answer(404, "Unknown receiver")
        body = request.body
        if len(body) > MAX_BODY_BYTES:
            return _answer(413, "Body too large")
        webhook_receive(
            subscription=subscription,
            body=body,
            signature=request.headers.get("X-PagerDuty-Signature"),
            webhook_id=request.headers.get("X-Webhook-Id"),
            source=_source(request),
        )
    except WebhookRefused as exc:
        return _answer(exc.status, "Refused")
    except (WebhookUnavailable, DatabaseError):
        return _answer(503, "Try again later")
    return _answer(202, "Accepted")
