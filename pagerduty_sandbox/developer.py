"""App Registration pages, following the seed's steps 1–6.

1. `/developer/applications` lists the account's apps with **New App**.
2. New App: name, description, Functionality **OAuth 2.0** → Next.
3–5. Configure OAuth 2.0: **Scoped OAuth**, redirect URLs, the Read/Write
   permission-scope table and the read-only *Selected Permission Scope*;
   or **Classic User OAuth**, redirect URLs, *Set Permission Scopes*
   (Read or Read/Write) and an optional message to users
   (DD 08-Classic-User-OAuth.md).
6. **Register App** shows the Client ID and the Client Secret once.

The wizard carries its fields in the form itself, so nothing is stored
until Register; apps belong to the signed-in user's account.
"""

import re
import secrets
import uuid
from urllib.parse import urlencode, urlsplit

from pagerduty_sandbox.http import Response
from pagerduty_sandbox.scopes import canonical, known_scopes, resources
from pagerduty_sandbox.state import App

# PagerDuty: Manager (API role "user"), Global Admin or Account Owner.
REGISTER_ROLES = {"owner", "admin", "user"}
MAX_REDIRECT_URLS = 10
# Classic's "Set Permission Scopes" drop-down: value -> label.
CLASSIC_CHOICES = (("read", "Read"), ("write", "Read/Write"))
MAX_MESSAGE = 500
APP_PATH = re.compile(
    r"^/developer/applications/(?P<id>P[A-Z0-9]{6})"
    r"(?:/(?P<action>revoke_tokens|regenerate_secret))?$"
)


def _signed_in(page, request):
    if page.user is None:
        return page.redirect("/sign_in?" + urlencode({"next": request.path}))
    return None


def _can_register(user) -> bool:
    return user.role in REGISTER_ROLES


def app_list(app, page, request):
    if redirect := _signed_in(page, request):
        return redirect
    user = page.user
    apps = sorted(
        (a for a in app.state.apps.values() if a.account_id == user.account_id),
        key=lambda a: a.created_at,
    )
    return page.render(
        "pagerduty_sandbox/app_list.html",
        {"apps": apps, "can_register": _can_register(user)},
    )


def _forbidden(page):
    return page.render(
        "pagerduty_sandbox/message.html",
        {
            "title": "You can't register apps",
            "message": "Registering an app needs the Manager, Global Admin or "
            "Account Owner role on this account.",
        },
        status=403,
    )


def _csrf_failure(page):
    return page.render(
        "pagerduty_sandbox/message.html",
        {
            "title": "Form expired",
            "message": "The form's security token did not match. Reload the "
            "page and try again.",
        },
        status=403,
    )


def _first(form, name: str) -> str:
    return (form.get(name) or [""])[0]


def _basics(form) -> tuple[dict, list[str]]:
    name = _first(form, "name").strip()
    description = _first(form, "description").strip()
    errors = []
    if not name:
        errors.append("Enter a name for the app.")
    elif len(name) > 100:
        errors.append("The name can be at most 100 characters.")
    if len(description) > 500:
        errors.append("The description can be at most 500 characters.")
    if _first(form, "functionality") != "oauth2":
        errors.append("Select OAuth 2.0 under Functionality to use the REST API.")
    return {"name": name, "description": description}, errors


def app_new(app, page, request):
    """Step 2: name, description and functionality."""
    if redirect := _signed_in(page, request):
        return redirect
    if not _can_register(page.user):
        return _forbidden(page)
    if request.method == "GET":
        return page.render("pagerduty_sandbox/app_new.html", {"basics": {}})
    if request.method != "POST":
        return Response(status=405, headers=[("Allow", "GET, POST")])
    form = request.form()
    if not page.csrf_ok(form):
        return _csrf_failure(page)
    basics, errors = _basics(form)
    if errors:
        return page.render(
            "pagerduty_sandbox/app_new.html",
            {"basics": basics, "errors": errors, "oauth_checked": False},
            status=400,
        )
    return _render_configure(page, basics, redirect_urls=[""], scopes=[])


def _render_configure(
    page,
    basics,
    *,
    redirect_urls,
    scopes,
    errors=(),
    status=200,
    oauth_type="scoped",
    classic_scope="",
    message="",
):
    chosen = set(scopes)
    rows = [
        {
            "label": r.label,
            "read": r.read,
            "write": r.write,
            "read_checked": bool(r.read) and r.read in chosen,
            "write_checked": bool(r.write) and r.write in chosen,
        }
        for r in resources()
    ]
    return page.render(
        "pagerduty_sandbox/app_configure.html",
        {
            "basics": basics,
            "redirect_urls": redirect_urls,
            "rows": rows,
            "selected": canonical(scopes),
            "errors": list(errors),
            "oauth_type": oauth_type,
            "classic_choices": CLASSIC_CHOICES,
            "classic_scope": classic_scope,
            "message": message,
        },
        status=status,
    )


def _redirect_errors(urls: list[str]) -> list[str]:
    errors = []
    if not urls:
        errors.append("Add at least one redirect URL.")
    if len(urls) > MAX_REDIRECT_URLS:
        errors.append(f"Add at most {MAX_REDIRECT_URLS} redirect URLs.")
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            errors.append(f"{url} is not an absolute http(s) URL.")
        elif parts.fragment or "#" in url:
            errors.append(f"{url} must not contain a fragment (#).")
        elif any(ch.isspace() for ch in url):
            errors.append(f"{url} must not contain spaces.")
    return errors


def app_configure(app, page, request):
    """Steps 3–6: Scoped OAuth, redirect URLs, scopes, then Register."""
    if redirect := _signed_in(page, request):
        return redirect
    if not _can_register(page.user):
        return _forbidden(page)
    if request.method != "POST":
        return page.redirect("/developer/applications/new")
    form = request.form()
    if not page.csrf_ok(form):
        return _csrf_failure(page)
    basics, errors = _basics(form)
    if errors:
        return page.render(
            "pagerduty_sandbox/app_new.html",
            {"basics": basics, "errors": errors},
            status=400,
        )
    typed = [u.strip() for u in form.get("redirect_url", [])]
    urls = list(dict.fromkeys(u for u in typed if u))
    known = known_scopes()
    scopes = [s for s in form.get("scope", []) if s in known]
    unknown = [s for s in form.get("scope", []) if s not in known]
    oauth_type = _first(form, "oauth_type")
    classic_scope = _first(form, "classic_scope")
    message = _first(form, "message").strip()
    again = {
        "oauth_type": oauth_type if oauth_type in ("scoped", "classic") else "scoped",
        "classic_scope": classic_scope,
        "message": message,
    }
    if _first(form, "action") == "add_redirect":
        return _render_configure(
            page, basics, redirect_urls=[*urls, ""], scopes=scopes, **again
        )
    errors = []
    if oauth_type not in ("scoped", "classic"):
        errors.append("Choose Scoped OAuth or Classic User OAuth.")
    errors += _redirect_errors(urls)
    if oauth_type == "classic":
        if classic_scope not in dict(CLASSIC_CHOICES):
            errors.append("Under Set Permission Scopes, choose Read or Read/Write.")
        if len(message) > MAX_MESSAGE:
            errors.append(f"The message can be at most {MAX_MESSAGE} characters.")
        scopes = [classic_scope]
    else:
        if unknown:
            errors.append(f"Unknown scope {unknown[0]}.")
        if not scopes:
            errors.append("Select at least one permission scope.")
    if errors:
        return _render_configure(
            page,
            basics,
            redirect_urls=urls or [""],
            scopes=scopes if oauth_type != "classic" else [],
            errors=errors,
            status=400,
            **again,
        )
    state = app.state
    user = page.user
    registered = App(
        id=state.new_id(),
        account_id=user.account_id,
        owner_user_id=user.id,
        name=basics["name"],
        description=basics["description"],
        client_id=str(uuid.uuid4()),
        client_secret=secrets.token_urlsafe(36),
        redirect_uris=urls,
        scopes=scopes if oauth_type == "classic" else canonical(scopes).split(),
        created_at=state.now(),
        oauth_type=oauth_type,
        message=message if oauth_type == "classic" else "",
    )
    state.apps[registered.id] = registered
    # The only time the secret is ever rendered (seed step 6).
    return page.render(
        "pagerduty_sandbox/app_credentials.html", {"client": registered}, status=201
    )


def app_detail(app, page, request, app_id: str, action: str | None):
    if redirect := _signed_in(page, request):
        return redirect
    state = app.state
    client = state.apps.get(app_id)
    if client is None or client.account_id != page.user.account_id:
        return page.render(
            "pagerduty_sandbox/message.html",
            {"title": "App not found", "message": "No such app on your account."},
            status=404,
        )
    message = ""
    if action:
        if request.method != "POST":
            return Response(status=405, headers=[("Allow", "POST")])
        if not page.csrf_ok(request.form()):
            return _csrf_failure(page)
        if not _can_register(page.user):
            return _forbidden(page)
        if action == "regenerate_secret":
            # Issued tokens stay valid; only the token endpoint sees the change.
            client.client_secret = secrets.token_urlsafe(36)
            return page.render(
                "pagerduty_sandbox/app_credentials.html",
                {"client": client, "regenerated": True},
            )
        count = state.revoke_app_tokens(client)
        message = f"Revoked {count} authorization{'s' if count != 1 else ''}."
    live = sum(
        1 for g in state.grants.values() if g.app_id == client.id and not g.revoked
    )
    owner = state.users.get(client.owner_user_id)
    return page.render(
        "pagerduty_sandbox/app_detail.html",
        {
            "client": client,
            "owner": owner,
            "live_grants": live,
            "message": message,
            "scope_string": dict(CLASSIC_CHOICES).get(client.scopes[0], "")
            if client.is_classic
            else canonical(client.scopes),
            "can_manage": _can_register(page.user),
        },
    )


def match(path: str):
    """Return the page handler for a developer path, or None."""
    if path == "/developer/applications":
        return app_list
    if path == "/developer/applications/new":
        return app_new
    if path == "/developer/applications/new/oauth":
        return app_configure
    found = APP_PATH.match(path)
    if found:
        return lambda app, page, request: app_detail(
            app, page, request, found["id"], found["action"]
        )
    return None
