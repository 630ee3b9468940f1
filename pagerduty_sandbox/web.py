"""PagerDuty's web pages, as links from the portal reach them.

PagerDuty's API hands out `html_url`s on `<subdomain>.pagerduty.com`; the
portal points them at PAGERDUTY_WEB_URL when it is set (the demo sets it
to `<sandbox>/web`), so "Open in PagerDuty" and "Open App Registration"
stay in the sandbox. Only the pages the portal links to exist.
"""

import re
from urllib.parse import urlencode

WEB = "/web"
INCIDENT = re.compile(r"^/web/incidents/(?P<id>P[A-Z0-9]{6})$")
SERVICE = re.compile(r"^/web/service-directory/(?P<id>P[A-Z0-9]{6})$")


def _signed_in(page, request):
    if page.user is None:
        return page.redirect("/sign_in?" + urlencode({"next": request.path}))
    return None


def _object_page(app, page, request, *, kind: str, obj_id: str):
    if response := _signed_in(page, request):
        return response
    state = app.state
    found = (state.incidents if kind == "incident" else state.services).get(obj_id)
    if found is None or found.account_id != page.user.account_id:
        return page.render(
            "pagerduty_sandbox/message.html",
            {"title": "Not found", "message": f"No {kind} {obj_id} in your account."},
            status=404,
        )
    if kind == "incident":
        service = state.services.get(found.service_id)
        facts = [
            ("Number", f"#{found.number}"),
            ("Status", found.status),
            ("Urgency", found.urgency),
            ("Service", service.name if service else found.service_id),
        ]
        title = found.title
    else:
        facts = [("Status", found.status), ("Description", found.description or "")]
        title = found.name
    return page.render(
        "pagerduty_sandbox/web_object.html",
        {"title": title, "kind": kind, "obj_id": obj_id, "facts": facts},
    )


def match(path: str):
    if not path.startswith(WEB + "/"):
        return None
    if path == "/web/developer/applications":
        return lambda app, page, request: page.redirect("/developer/applications")
    if found := INCIDENT.match(path):
        return lambda app, page, request: _object_page(
            app, page, request, kind="incident", obj_id=found["id"]
        )
    if found := SERVICE.match(path):
        return lambda app, page, request: _object_page(
            app, page, request, kind="service", obj_id=found["id"]
        )
    return None
