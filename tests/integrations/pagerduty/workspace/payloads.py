"""Trimmed PagerDuty payload shapes for workspace tests."""

from urllib.parse import parse_qs, urlsplit

from tests.connect_fixtures import API


def ref(kind: str, obj_id: str, summary: str) -> dict:
    return {
        "id": obj_id,
        "type": f"{kind}_reference",
        "summary": summary,
        "html_url": f"https://acme.pagerduty.com/{kind}s/{obj_id}",
    }


def incident(
    obj_id="PINC001",
    number=1,
    title="Checkout is down",
    status="triggered",
    urgency="high",
    service=("PSVC001", "Checkout"),
    assignee=("PUSER02", "Bob Baker"),
) -> dict:
    return {
        "id": obj_id,
        "type": "incident",
        "summary": f"[#{number}] {title}",
        "html_url": f"https://acme.pagerduty.com/incidents/{obj_id}",
        "incident_number": number,
        "title": title,
        "created_at": "2026-11-28T10:00:00Z",
        "status": status,
        "urgency": urgency,
        "service": {**ref("service", *service), "name": service[1]},
        "assignments": (
            [{"at": "2026-11-28T10:00:00Z", "assignee": ref("user", *assignee)}]
            if assignee
            else []
        ),
        "escalation_policy": ref("escalation_policy", "PEP0001", "Checkout policy"),
        "teams": [ref("team", "PTEAM01", "Payments")],
    }


def incident_list(items, *, total=None, more=False, offset=0, limit=25) -> dict:
    return {
        "incidents": items,
        "limit": limit,
        "offset": offset,
        "more": more,
        "total": len(items) if total is None else total,
    }


def service(obj_id="PSVC001", name="Checkout", status="active") -> dict:
    return {
        "id": obj_id,
        "type": "service",
        "summary": name,
        "name": name,
        "description": f"{name} service",
        "status": status,
        "html_url": f"https://acme.pagerduty.com/service-directory/{obj_id}",
        "escalation_policy": {
            **ref("escalation_policy", "PEP0001", "Checkout policy"),
            "name": "Checkout policy",
        },
        "teams": [{**ref("team", "PTEAM01", "Payments"), "name": "Payments"}],
        "integrations": [
            {
                "id": "PINT001",
                "type": "events_api_v2_inbound_integration",
                "summary": "Datadog",
                "name": "Datadog",
            }
        ],
        "acknowledgement_timeout": 1800,
        "auto_resolve_timeout": None,
    }


def oncall(user=("PUSER01", "Alice Anders"), level=1, schedule=None) -> dict:
    data = {
        "escalation_policy": ref("escalation_policy", "PEP0001", "Checkout policy"),
        "escalation_level": level,
        "user": {**ref("user", *user), "name": user[1]},
    }
    if schedule:
        data["schedule"] = ref("schedule", *schedule)
        data["start"] = "2026-11-28T00:00:00Z"
        data["end"] = "2026-12-05T00:00:00Z"
    return data


def error(message, code=2001, errors=()) -> dict:
    body = {"error": {"message": message, "code": code}}
    if errors:
        body["error"]["errors"] = list(errors)
    return body


def query(call) -> dict:
    """Return the query string of a recorded call as {name: [values]}."""
    return parse_qs(urlsplit(call.request.url).query)


def url(path: str) -> str:
    return f"{API}{path}"


def directory(kind: str, entries) -> dict:
    """Return a directory list (`/services`, `/teams`, …) of (id, name)."""
    singular = kind.rstrip("s")
    return {
        kind: [
            {**ref(singular, obj_id, name), "name": name} for obj_id, name in entries
        ],
        "limit": 100,
        "offset": 0,
        "more": False,
        "total": None,
    }


SERVICES = (("PSVC001", "Checkout"), ("PSVC002", "Payments API"))
TEAMS = (("PTEAM01", "Payments"), ("PTEAM02", "Platform"))


def mock_directories(rsps, *, services=SERVICES, teams=TEAMS):
    """Serve the incident list's pickers: the services and teams lists.

    None leaves a list out (its scope was not granted).
    """
    if services is not None:
        rsps.get(url("/services"), json=directory("services", services))
    if teams is not None:
        rsps.get(url("/teams"), json=directory("teams", teams))
