"""Run-time control under `/_sandbox/`: faults, latency, limits, the log.

JSON in, JSON out; `POST /_sandbox/reset` re-seeds the whole world.
Benchmarks and manual experiments use it; tests use the fixture's methods,
which change the same state. `--no-control` turns the whole prefix into
404s.
"""

from dataclasses import asdict, fields

from pagerduty_sandbox.http import BadRequest, Response
from pagerduty_sandbox.scopes import OPENID
from pagerduty_sandbox.seed import demo_app_credentials
from pagerduty_sandbox.state import Config, Fault

FAULT_KINDS = ("500", "429", "timeout")
TUNABLE = {f.name for f in fields(Config)} - {
    "control_enabled",
    "webhook_retry_delays",
}


def _error(message: str, status: int = 400) -> Response:
    return Response.json({"error": message}, status=status)


def parse_fault(data) -> Fault:
    """Return a Fault from a JSON object; raise ValueError naming the problem."""
    if not isinstance(data, dict):
        raise ValueError("send a JSON object")
    kind = str(data.get("kind", ""))
    if kind not in FAULT_KINDS:
        raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}")
    prefix = data.get("path_prefix", "/")
    if not isinstance(prefix, str) or not prefix.startswith("/"):
        raise ValueError("path_prefix must start with /")
    share = data.get("share", 1.0)
    delay = data.get("delay", 10.0)
    for name, value in (("share", share), ("delay", delay)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{name} must be a number")
    if not 0 < share <= 1:
        raise ValueError("share must be in (0, 1]")
    if not 0 <= delay <= 120:
        raise ValueError("delay must be between 0 and 120 seconds")
    return Fault(kind=kind, path_prefix=prefix, share=float(share), delay=float(delay))


def apply_config(config: Config, data) -> None:
    """Update tunable settings from a JSON object; raise ValueError if bad."""
    if not isinstance(data, dict):
        raise ValueError("send a JSON object")
    unknown = sorted(set(data) - TUNABLE)
    if unknown:
        raise ValueError(f"unknown setting {unknown[0]}; known: {sorted(TUNABLE)}")
    for name, value in data.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer")
    for name, value in data.items():
        setattr(config, name, value)


def _mint_tokens(app, state, body) -> Response:
    """Grant tokens without the browser flow (benchmarks run the portal in
    other processes, so they can't use the fixture's `issue_token`)."""
    if not isinstance(body, dict):
        return _error("Send a JSON object")
    client_id = body.get("client_id") or demo_app_credentials(state.seed).client_id
    email, scopes = body.get("user_email"), body.get("scopes")
    oauth_app = (
        state.app_by_client_id(client_id) if isinstance(client_id, str) else None
    )
    if oauth_app is None:
        return _error("no app with that client_id")
    user = state.user_by_email(email) if isinstance(email, str) else None
    if user is None:
        return _error("user_email must name a sandbox user")
    if scopes is None:
        scopes = list(oauth_app.scopes)
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        return _error("scopes must be a list of strings")
    if OPENID not in scopes:
        scopes = [OPENID, *scopes]
    grant = state.issue_grant(app=oauth_app, user=user, scopes=scopes)
    now = state.now()
    return Response.json(
        {
            "access_token": grant.access_token,
            "refresh_token": grant.refresh_token,
            "expires_in": int((grant.access_expires_at - now).total_seconds()),
            "scope": " ".join(grant.scopes),
            "account_id": grant.account_id,
        },
        status=201,
    )


def render_api_key(key, secret: str | None = None) -> dict:
    data = {
        "id": key.id,
        "kind": key.kind,
        "account_id": key.account_id,
        "user_id": key.user_id,
        "description": key.description,
        "read_only": key.read_only,
        "hint": key.hint,
        "created_at": key.created_at.isoformat(),
        "revoked": key.revoked_at is not None,
    }
    if secret is not None:
        data["key"] = secret
    return data


def _create_api_key(state, body) -> Response:
    """Create a REST API key (benchmarks and tests; the page does the same).

    {"kind": "user", "user_email": …} acts as that user; {"kind": "account",
    "account": "<subdomain>", "read_only": false} is a general access key.
    The key is in this answer only.
    """
    if not isinstance(body, dict):
        return _error("Send a JSON object")
    kind = body.get("kind", "user")
    description = body.get("description", f"Sandbox {kind} key")
    read_only = body.get("read_only", False)
    if kind not in ("account", "user"):
        return _error("kind must be account or user")
    if not isinstance(description, str) or not 0 < len(description) <= 255:
        return _error("description must be a string of 1 to 255 characters")
    if not isinstance(read_only, bool):
        return _error("read_only must be true or false")
    user = None
    if kind == "user":
        email = body.get("user_email")
        user = state.user_by_email(email) if isinstance(email, str) else None
        if user is None:
            return _error("user_email must name a sandbox user")
        account = state.accounts[user.account_id]
    else:
        subdomain = body.get("account")
        account = (
            state.account_by_subdomain(subdomain)
            if isinstance(subdomain, str)
            else None
        )
        if account is None:
            return _error("account must be the subdomain of a sandbox account")
    try:
        key, secret = state.issue_api_key(
            account_id=account.id,
            kind=kind,
            description=description,
            user=user,
            read_only=read_only,
        )
    except ValueError as exc:
        return _error(str(exc))
    return Response.json({"api_key": render_api_key(key, secret)}, status=201)


def dispatch(app, request) -> Response:
    state = app.state
    if not state.config.control_enabled:
        return _error("Not found", status=404)
    path, method = request.path.rstrip("/"), request.method
    if method in ("POST", "PUT") and request.content_type != "application/json":
        # JSON only: a cross-site form post cannot send it without a CORS
        # preflight, which the sandbox never grants.
        return _error("Send JSON with Content-Type: application/json", status=415)
    try:
        body = request.json() if method in ("POST", "PUT") else None
    except BadRequest as exc:
        return _error(str(exc))
    with state.lock:
        if path == "/_sandbox/state" and method == "GET":
            return Response.json(
                {
                    "seed": state.seed,
                    "config": asdict(state.config),
                    "faults": [f.as_dict() for f in state.faults],
                    "counts": {
                        "accounts": len(state.accounts),
                        "users": len(state.users),
                        "services": len(state.services),
                        "incidents": len(state.incidents),
                        "apps": len(state.apps),
                    },
                }
            )
        if path == "/_sandbox/faults":
            if method == "GET":
                return Response.json({"faults": [f.as_dict() for f in state.faults]})
            if method == "POST":
                try:
                    fault = parse_fault(body)
                except ValueError as exc:
                    return _error(str(exc))
                state.faults.append(fault)
                return Response.json({"fault": fault.as_dict()}, status=201)
            if method == "DELETE":
                state.faults.clear()
                return Response(status=204)
        if path == "/_sandbox/config" and method == "PUT":
            try:
                apply_config(state.config, body)
            except ValueError as exc:
                return _error(str(exc))
            return Response.json({"config": asdict(state.config)})
        if path == "/_sandbox/requests":
            if method == "GET":
                log = [
                    {"method": m, "path": p, "status": s}
                    for m, p, s in state.request_log
                ]
                return Response.json({"requests": log})
            if method == "DELETE":
                state.request_log.clear()
                return Response(status=204)
        if path == "/_sandbox/reset" and method == "POST" and app.rebuild:
            fresh = app.rebuild()
            app.state = fresh
            return Response.json({"seed": fresh.seed})
        if path == "/_sandbox/api_keys":
            if method == "GET":
                keys = [render_api_key(k) for k in state.api_keys.values()]
                return Response.json({"api_keys": keys})
            if method == "POST":
                return _create_api_key(state, body)
        if path.startswith("/_sandbox/api_keys/") and method == "DELETE":
            key = state.api_keys.get(path.rsplit("/", 1)[1])
            if key is None:
                return _error("no API key with that id", status=404)
            state.revoke_api_key(key)
            return Response(status=204)
        if path == "/_sandbox/tokens" and method == "POST":
            return _mint_tokens(app, state, body)
        if path == "/_sandbox/advance" and method == "POST":
            seconds = body.get("seconds") if isinstance(body, dict) else None
            if isinstance(seconds, bool) or not isinstance(seconds, int | float):
                return _error("seconds must be a number")
            state.advance(seconds)
            return Response.json({"now": state.now().isoformat()})
    return _error("Not found", status=404)
