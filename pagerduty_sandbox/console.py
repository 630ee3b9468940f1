"""The sandbox's own incident page: trigger, acknowledge and resolve.

Changes made here behave like changes through the API: they write log
entries and send webhooks. `/incidents` itself is the REST API, so the page
lives at `/app/incidents`.
"""

import re
from urllib.parse import urlencode

from pagerduty_sandbox import ops, webhooks
from pagerduty_sandbox.http import Response

ACTION_PATH = re.compile(
    r"^/app/incidents/(?P<id>P[A-Z0-9]{6})/(?P<action>acknowledge|resolve)$"
)
SHOWN = 50


def _guard(page, request):
    if page.user is None:
        return page.redirect("/sign_in?" + urlencode({"next": "/app/incidents"}))
    if request.method != "POST":
        return None
    if not page.csrf_ok(request.form()):
        return page.render(
            "pagerduty_sandbox/message.html",
            {"title": "Form expired", "message": "Reload the page and try again."},
            status=403,
        )
    return None


def incident_page(app, page, request, error: str = "", status: int = 200):
    if response := _guard(page, request):
        return response
    if request.method == "POST":
        return _trigger(app, page, request)
    state = app.state
    user = page.user
    mine = [i for i in state.incidents.values() if i.account_id == user.account_id]
    mine.sort(key=lambda i: i.created_at, reverse=True)
    services = sorted(
        (s for s in state.services.values() if s.account_id == user.account_id),
        key=lambda s: s.name,
    )
    rows = [
        {
            "incident": i,
            "service": state.services.get(i.service_id),
            "assignees": ", ".join(
                state.users[u].name for u in i.assignee_ids if u in state.users
            ),
        }
        for i in mine
        if i.status != "resolved"
    ][:SHOWN]
    return page.render(
        "pagerduty_sandbox/incidents.html",
        {"rows": rows, "services": services, "error": error},
        status=status,
    )


def _trigger(app, page, request):
    form = request.form()
    state = app.state
    user = page.user
    title = (form.get("title") or [""])[0].strip()
    service = state.services.get((form.get("service") or [""])[0])
    if not title or len(title) > 1024:
        return _retry(app, page, "Enter a title of at most 1024 characters.")
    if service is None or service.account_id != user.account_id:
        return _retry(app, page, "Choose one of your account's services.")
    agent = ("user", user.id)
    incident = ops.incident_create(
        state, service=service, title=title, agent=agent, channel="web_trigger"
    )
    webhooks.emit_incident(app, incident, "incident.triggered", agent)
    return page.redirect("/app/incidents")


def _retry(app, page, error: str):
    page.request.method = "GET"
    return incident_page(app, page, page.request, error=error, status=400)


def incident_action(app, page, request, incident_id: str, action: str):
    if request.method != "POST":
        return Response(status=405, headers=[("Allow", "POST")])
    if response := _guard(page, request):
        return response
    state = app.state
    incident = state.incidents.get(incident_id)
    if incident is None or incident.account_id != page.user.account_id:
        return page.render(
            "pagerduty_sandbox/message.html",
            {"title": "Incident not found", "message": "No such incident."},
            status=404,
        )
    agent = ("user", page.user.id)
    try:
        if action == "acknowledge":
            ops.incident_acknowledge(state, incident, agent)
        else:
            ops.incident_resolve(state, incident, agent)
    except ops.OperationError as exc:
        return _retry(app, page, exc.message)
    event = "incident.acknowledged" if action == "acknowledge" else "incident.resolved"
    webhooks.emit_incident(app, incident, event, agent)
    return page.redirect("/app/incidents")


def match(path: str):
    if path == "/app/incidents":
        return incident_page
    found = ACTION_PATH.match(path)
    if found:
        return lambda app, page, request: incident_action(
            app, page, request, found["id"], found["action"]
        )
    return None
