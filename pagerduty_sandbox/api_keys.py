"""The API Access Keys page: create and revoke REST API keys.

Like PagerDuty's page (Integrations → API Access Keys), Global Admins and
the Account Owner create *general access* keys for the account, full or
read-only; every user may create *user* keys that act as themselves (on
PagerDuty under My Profile → User Settings). A new key is shown once; the
sandbox keeps only its SHA-256 and its last four characters.
"""

import re
from urllib.parse import urlencode

from pagerduty_sandbox.http import Response
from pagerduty_sandbox.roles import ADMIN_ROLES

REVOKE_PATH = re.compile(r"^/api_keys/(?P<id>P[A-Z0-9]{6})/revoke$")
MAX_DESCRIPTION = 255


def _first(form: dict, name: str) -> str:
    return (form.get(name) or [""])[0]


def _guard(page, request):
    if page.user is None:
        return page.redirect("/sign_in?" + urlencode({"next": "/api_keys"}))
    if request.method == "POST" and not page.csrf_ok(request.form()):
        return page.render(
            "pagerduty_sandbox/message.html",
            {"title": "Form expired", "message": "Reload the page and try again."},
            status=403,
        )
    return None


def _may_manage_account_keys(user) -> bool:
    return user.role in ADMIN_ROLES


def key_page(app, page, request, *, error: str = "", status: int = 200):
    if response := _guard(page, request):
        return response
    if request.method == "POST":
        return _create(app, page, request)
    if request.method != "GET":
        return Response(status=405, headers=[("Allow", "GET, POST")])
    state = app.state
    user = page.user
    live = sorted(
        (
            k
            for k in state.api_keys.values()
            if k.account_id == user.account_id and k.revoked_at is None
        ),
        key=lambda k: k.created_at,
    )
    return page.render(
        "pagerduty_sandbox/api_keys.html",
        {
            "can_manage": _may_manage_account_keys(user),
            "account_keys": [k for k in live if k.kind == "account"],
            "user_keys": [
                {"key": k, "owner": state.users.get(k.user_id)}
                for k in live
                if k.kind == "user"
                and (k.user_id == user.id or _may_manage_account_keys(user))
            ],
            "error": error,
        },
        status=status,
    )


def _retry(app, page, error: str, status: int = 400):
    page.request.method = "GET"
    return key_page(app, page, page.request, error=error, status=status)


def _create(app, page, request):
    form = request.form()
    user = page.user
    kind = _first(form, "kind")
    description = _first(form, "description").strip()
    if kind not in ("account", "user"):
        return _retry(app, page, "Choose a general access key or a user key.")
    if kind == "account" and not _may_manage_account_keys(user):
        return _retry(
            app,
            page,
            "General access keys need the Global Admin or Account Owner role.",
            status=403,
        )
    if not description or len(description) > MAX_DESCRIPTION:
        return _retry(app, page, "Enter a description of at most 255 characters.")
    key, secret = app.state.issue_api_key(
        account_id=user.account_id,
        kind=kind,
        description=description,
        user=user if kind == "user" else None,
        created_by=user,
        read_only=kind == "account" and _first(form, "read_only") == "on",
    )
    # The only time the key is ever rendered.
    return page.render(
        "pagerduty_sandbox/api_key_created.html",
        {"key": key, "secret": secret},
        status=201,
    )


def revoke(app, page, request, key_id: str):
    if request.method != "POST":
        return Response(status=405, headers=[("Allow", "POST")])
    if response := _guard(page, request):
        return response
    user = page.user
    key = app.state.api_keys.get(key_id)
    allowed = key is not None and key.account_id == user.account_id
    if allowed and not _may_manage_account_keys(user):
        allowed = key.kind == "user" and key.user_id == user.id
    if not allowed or key.revoked_at is not None:
        return page.render(
            "pagerduty_sandbox/message.html",
            {"title": "Key not found", "message": "No such API key."},
            status=404,
        )
    app.state.revoke_api_key(key)
    return page.redirect("/api_keys")


def match(path: str):
    if path == "/api_keys":
        return key_page
    found = REVOKE_PATH.match(path)
    if found:
        return lambda app, page, request: revoke(app, page, request, found["id"])
    return None
