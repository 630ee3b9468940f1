"""“Are you sure?” by MCP elicitation (2026-07-28 input-required round trip; M23).

The first call returns an input-required result: a form asking the person
to confirm, and a `requestState` the client echoes on its retry. The state
is signed (Django signing, its own salt, the deployment's SECRET_KEY, so any
worker verifies it) and binds the agent's authorization (person, client,
tenant), the tool, the canonical arguments' hash and a nonce; it expires
after MCP_CONFIRM_SECONDS. The nonce is spent in the shared cache on use,
so a replay is refused by every worker. Nothing is stored when asking.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.utils.translation import gettext as _

from integrations.gateway.policies import arguments_hash

SALT = "integrations.gateway.confirmations"
FIELD = "confirm"


class ConfirmationRefused(Exception):
    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


def confirmation_state(*, authorization, tool: str, arguments: dict) -> str:
    """Return the signed requestState for confirming this exact call."""
    return signing.dumps(
        {
            "a": authorization.pk,
            "u": authorization.user_id,
            "c": authorization.client_id,
            "t": tool,
            "h": arguments_hash(arguments),
            "n": secrets.token_urlsafe(16),
        },
        salt=SALT,
        compress=True,
    )


def confirmation_request(*, tool: str, arguments: dict, reason: str) -> dict:
    """Return the form the client shows the person (elicitation, form mode)."""
    return {
        "message": _(
            "Are you sure? The agent wants to run %(tool)s with "
            "%(arguments)s. %(reason)s"
        )
        % {"tool": tool, "arguments": _short(arguments), "reason": reason},
        "schema": {
            "type": "object",
            "properties": {
                FIELD: {
                    "type": "boolean",
                    "title": _("Run %(tool)s") % {"tool": tool},
                    "description": _("Tick to let the agent run it once."),
                }
            },
            "required": [FIELD],
        },
    }


def _short(arguments: dict) -> str:
    from integrations.gateway.policies import canonical_arguments

    text = canonical_arguments(arguments)
    return text if len(text) <= 300 else text[:300] + "…"


def confirmation_redeem(
    *, state, accepted: bool, authorization, tool: str, arguments: dict
) -> None:
    """Check a confirmation's state and answer; spend it; raise if it may not run."""
    if not isinstance(state, str) or len(state) > 2000:
        raise _invalid()
    try:
        claims = signing.loads(state, salt=SALT, max_age=settings.MCP_CONFIRM_SECONDS)
    except signing.SignatureExpired:
        raise ConfirmationRefused(
            _("The confirmation expired; call the tool again."),
            code="confirmation_expired",
        ) from None
    except signing.BadSignature:
        raise _invalid() from None
    bound = (
        claims.get("a") == authorization.pk
        and claims.get("u") == authorization.user_id
        and claims.get("c") == authorization.client_id
        and claims.get("t") == tool
        and claims.get("h") == arguments_hash(arguments)
    )
    if not bound or not isinstance(claims.get("n"), str):
        raise _invalid()
    if not accepted:
        raise ConfirmationRefused(
            _("The person did not confirm %(tool)s; nothing was changed.")
            % {"tool": tool},
            code="confirmation_declined",
        )
    # Spent once, in the cache every worker shares.
    if not cache.add(
        f"mcp:confirm:{claims['n']}", 1, timeout=settings.MCP_CONFIRM_SECONDS + 60
    ):
        raise ConfirmationRefused(
            _("This confirmation was already used; call the tool again."),
            code="confirmation_replayed",
        )


def _invalid() -> ConfirmationRefused:
    return ConfirmationRefused(
        _(
            "This confirmation does not match this call: it confirms only the "
            "same tool with the same arguments, for the same person and agent."
        ),
        code="confirmation_invalid",
    )
