"""Every REST operation the sandbox serves answers in the OpenAPI file's shape.

Each scenario performs one operation on fresh seed data and returns the
response; the test validates its body against the operation's documented
response schema. `test_every_route_has_a_fidelity_scenario` keeps the table
complete as operations are added.
"""

from datetime import timedelta

import pytest
import requests

from pagerduty_sandbox.rest import ROUTES
from pagerduty_sandbox.state import iso
from tests.helpers import skip_unless_available
from tests.pagerduty_sandbox.openapi import SPEC_PATH, validate


class Api:
    def __init__(self, sandbox, email="alice@acme.example"):
        self.sandbox = sandbox
        self.state = sandbox.state
        self.headers = {
            "Authorization": f"Bearer {sandbox.issue_token(email)}",
            "Accept": "application/vnd.pagerduty+json;version=2",
            "From": email,
        }
        self.acme = self.state.account_by_subdomain("acme")

    def call(self, method, path, **kwargs):
        return requests.request(
            method,
            f"{self.sandbox.url}{path}",
            headers=self.headers,
            timeout=5,
            **kwargs,
        )

    def first(self, collection, **match):
        return next(
            item
            for item in collection.values()
            if item.account_id == self.acme.id
            and all(getattr(item, k) == v for k, v in match.items())
        )

    def user(self, email="bob@acme.example"):
        return self.state.user_by_email(email)


def _incident(api, status="triggered"):
    return api.first(api.state.incidents, status=status)


def _ref(kind, obj_id):
    return {"id": obj_id, "type": f"{kind}_reference"}


def _schedule_body(api):
    start = iso(api.state.now())
    return {
        "schedule": {
            "type": "schedule",
            "name": "Night shift",
            "time_zone": "Etc/UTC",
            "schedule_layers": [
                {
                    "start": start,
                    "rotation_virtual_start": start,
                    "rotation_turn_length_seconds": 86400,
                    "users": [{"user": _ref("user", api.user().id)}],
                }
            ],
        }
    }


def _subscription(api):
    response = api.call(
        "POST",
        "/webhook_subscriptions",
        json={
            "webhook_subscription": {
                "type": "webhook_subscription",
                "delivery_method": {
                    "type": "http_delivery_method",
                    "url": "http://127.0.0.1:9/hook",
                },
                "events": ["incident.triggered"],
                "filter": {"type": "account_reference"},
            }
        },
    )
    return response.json()["webhook_subscription"]["id"]


def _user_ids(api):
    return api.user().id


SCENARIOS = {
    "GET /users/me": lambda api: api.call("GET", "/users/me"),
    "GET /users": lambda api: api.call("GET", "/users?total=true"),
    "GET /users/{id}": lambda api: api.call("GET", f"/users/{_user_ids(api)}"),
    "POST /users": lambda api: api.call(
        "POST",
        "/users",
        json={"user": {"type": "user", "name": "Zed", "email": "zed@acme.example"}},
    ),
    "PUT /users/{id}": lambda api: api.call(
        "PUT", f"/users/{_user_ids(api)}", json={"user": {"job_title": "SRE"}}
    ),
    "DELETE /users/{id}": lambda api: api.call(
        "DELETE", f"/users/{api.user('erin@acme.example').id}"
    ),
    "GET /teams": lambda api: api.call("GET", "/teams"),
    "GET /teams/{id}": lambda api: api.call(
        "GET", f"/teams/{api.first(api.state.teams).id}"
    ),
    "POST /teams": lambda api: api.call(
        "POST", "/teams", json={"team": {"type": "team", "name": "Data"}}
    ),
    "PUT /teams/{id}": lambda api: api.call(
        "PUT",
        f"/teams/{api.first(api.state.teams).id}",
        json={"team": {"type": "team", "name": "Platform Ops"}},
    ),
    "DELETE /teams/{id}": lambda api: api.call(
        "DELETE", f"/teams/{api.first(api.state.teams).id}"
    ),
    "GET /teams/{id}/members": lambda api: api.call(
        "GET", f"/teams/{api.first(api.state.teams).id}/members"
    ),
    "PUT /teams/{id}/users/{user_id}": lambda api: api.call(
        "PUT",
        f"/teams/{api.first(api.state.teams).id}/users/"
        f"{api.user('erin@acme.example').id}",
        json={"role": "observer"},
    ),
    "DELETE /teams/{id}/users/{user_id}": lambda api: api.call(
        "DELETE",
        f"/teams/{api.first(api.state.teams).id}/users/"
        f"{api.user('alice@acme.example').id}",
    ),
    "GET /incidents": lambda api: api.call(
        "GET",
        "/incidents?total=true&include[]=assignees&include[]=services"
        "&include[]=first_trigger_log_entries&include[]=escalation_policies"
        "&include[]=teams&include[]=acknowledgers",
    ),
    "GET /incidents/{id}": lambda api: api.call(
        "GET", f"/incidents/{_incident(api, 'resolved').id}"
    ),
    "POST /incidents": lambda api: api.call(
        "POST",
        "/incidents",
        json={
            "incident": {
                "type": "incident",
                "title": "Disk full",
                "service": _ref("service", api.first(api.state.services).id),
                "urgency": "low",
                "body": {"type": "incident_body", "details": "sda1 at 99%"},
            }
        },
    ),
    "PUT /incidents/{id}": lambda api: api.call(
        "PUT",
        f"/incidents/{_incident(api).id}",
        json={"incident": {"type": "incident_reference", "status": "acknowledged"}},
    ),
    "PUT /incidents": lambda api: api.call(
        "PUT",
        "/incidents",
        json={
            "incidents": [
                {
                    "id": _incident(api).id,
                    "type": "incident_reference",
                    "status": "resolved",
                },
                {
                    "id": _incident(api, "acknowledged").id,
                    "type": "incident_reference",
                    "status": "resolved",
                },
            ]
        },
    ),
    "POST /incidents/{id}/snooze": lambda api: api.call(
        "POST",
        f"/incidents/{_incident(api, 'acknowledged').id}/snooze",
        json={"duration": 3600},
    ),
    "PUT /incidents/{id}/merge": lambda api: api.call(
        "PUT",
        f"/incidents/{_incident(api).id}/merge",
        json={
            "source_incidents": [_ref("incident", _incident(api, "acknowledged").id)]
        },
    ),
    "GET /incidents/{id}/notes": lambda api: api.call(
        "GET",
        f"/incidents/{next(i for i in api.state.incidents.values() if i.notes).id}"
        "/notes",
    ),
    "POST /incidents/{id}/notes": lambda api: api.call(
        "POST",
        f"/incidents/{_incident(api).id}/notes",
        json={"note": {"content": "Investigating"}},
    ),
    "PUT /incidents/{id}/notes/{note_id}": lambda api: _note_call(api, "PUT"),
    "DELETE /incidents/{id}/notes/{note_id}": lambda api: _note_call(api, "DELETE"),
    "GET /incidents/{id}/log_entries": lambda api: api.call(
        "GET", f"/incidents/{_incident(api, 'resolved').id}/log_entries"
    ),
    "GET /log_entries": lambda api: api.call("GET", "/log_entries?total=true"),
    "GET /log_entries/{id}": lambda api: api.call(
        "GET", f"/log_entries/{_incident(api, 'resolved').log_entries[0].id}"
    ),
    "GET /services": lambda api: api.call("GET", "/services?total=true"),
    "GET /services/{id}": lambda api: api.call(
        "GET", f"/services/{api.first(api.state.services).id}"
    ),
    "POST /services": lambda api: api.call(
        "POST",
        "/services",
        json={
            "service": {
                "type": "service",
                "name": "Ledger",
                "escalation_policy": _ref(
                    "escalation_policy", api.first(api.state.escalation_policies).id
                ),
            }
        },
    ),
    "PUT /services/{id}": lambda api: api.call(
        "PUT",
        f"/services/{api.first(api.state.services).id}",
        json={"service": {"description": "Renamed", "status": "disabled"}},
    ),
    "DELETE /services/{id}": lambda api: _delete_quiet_service(api),
    "GET /escalation_policies": lambda api: api.call("GET", "/escalation_policies"),
    "GET /escalation_policies/{id}": lambda api: api.call(
        "GET", f"/escalation_policies/{api.first(api.state.escalation_policies).id}"
    ),
    "POST /escalation_policies": lambda api: api.call(
        "POST",
        "/escalation_policies",
        json={
            "escalation_policy": {
                "type": "escalation_policy",
                "name": "Night escalation",
                "escalation_rules": [
                    {
                        "escalation_delay_in_minutes": 15,
                        "targets": [_ref("user", api.user().id)],
                    }
                ],
            }
        },
    ),
    "PUT /escalation_policies/{id}": lambda api: api.call(
        "PUT",
        f"/escalation_policies/{api.first(api.state.escalation_policies).id}",
        json={"escalation_policy": {"num_loops": 2}},
    ),
    "DELETE /escalation_policies/{id}": lambda api: _delete_unused_policy(api),
    "GET /schedules": lambda api: api.call("GET", "/schedules"),
    "GET /schedules/{id}": lambda api: api.call(
        "GET", f"/schedules/{api.first(api.state.schedules).id}"
    ),
    "POST /schedules": lambda api: api.call(
        "POST", "/schedules", json=_schedule_body(api)
    ),
    "PUT /schedules/{id}": lambda api: api.call(
        "PUT",
        f"/schedules/{api.first(api.state.schedules).id}",
        json={"schedule": {"name": "Renamed", "time_zone": "Europe/Berlin"}},
    ),
    "DELETE /schedules/{id}": lambda api: _delete_unused_schedule(api),
    "GET /schedules/{id}/overrides": lambda api: api.call(
        "GET",
        f"/schedules/{api.first(api.state.schedules).id}/overrides",
        params={
            "since": iso(api.state.now()),
            "until": iso(api.state.now() + timedelta(days=7)),
        },
    ),
    "POST /schedules/{id}/overrides": lambda api: api.call(
        "POST",
        f"/schedules/{api.first(api.state.schedules).id}/overrides",
        json={
            "overrides": [
                {
                    "start": iso(api.state.now()),
                    "end": iso(api.state.now() + timedelta(hours=4)),
                    "user": _ref("user", api.user().id),
                }
            ]
        },
    ),
    "DELETE /schedules/{id}/overrides/{override_id}": lambda api: api.call(
        "DELETE",
        f"/schedules/{api.first(api.state.schedules).id}/overrides/"
        f"{api.first(api.state.schedules).overrides[0].id}",
    ),
    "GET /oncalls": lambda api: api.call(
        "GET",
        "/oncalls",
        params={
            "since": iso(api.state.now()),
            "until": iso(api.state.now() + timedelta(days=14)),
        },
    ),
    "GET /webhook_subscriptions": lambda api: (
        _subscription(api),
        api.call("GET", "/webhook_subscriptions"),
    )[1],
    "GET /webhook_subscriptions/{id}": lambda api: api.call(
        "GET", f"/webhook_subscriptions/{_subscription(api)}"
    ),
    "POST /webhook_subscriptions": lambda api: (
        api.call("GET", f"/webhook_subscriptions/{_subscription(api)}")
        and _created_subscription(api)
    ),
    "PUT /webhook_subscriptions/{id}": lambda api: api.call(
        "PUT",
        f"/webhook_subscriptions/{_subscription(api)}",
        json={"webhook_subscription": {"events": ["incident.resolved"]}},
    ),
    "DELETE /webhook_subscriptions/{id}": lambda api: api.call(
        "DELETE", f"/webhook_subscriptions/{_subscription(api)}"
    ),
    "POST /webhook_subscriptions/{id}/enable": lambda api: api.call(
        "POST", f"/webhook_subscriptions/{_subscription(api)}/enable"
    ),
    "POST /webhook_subscriptions/{id}/ping": lambda api: api.call(
        "POST", f"/webhook_subscriptions/{_subscription(api)}/ping"
    ),
    # The OAS lets include[] expand an alert's service and first trigger log
    # entry but types both as references only, so no include here.
    "GET /incidents/{id}/alerts": lambda api: api.call(
        "GET", f"/incidents/{_with_alerts(api).id}/alerts?total=true"
    ),
    "GET /incidents/{id}/alerts/{alert_id}": lambda api: api.call(
        "GET",
        f"/incidents/{_with_alerts(api).id}/alerts/{_with_alerts(api).alerts[0].id}",
    ),
    "GET /incidents/{id}/outlier_incident": lambda api: api.call(
        "GET",
        f"/incidents/{_incident(api).id}/outlier_incident"
        "?additional_details[]=incident",
    ),
    "GET /incidents/{id}/past_incidents": lambda api: api.call(
        "GET", f"/incidents/{_latest(api).id}/past_incidents?limit=10&total=true"
    ),
    "GET /incidents/{id}/related_incidents": lambda api: api.call(
        "GET",
        f"/incidents/{_incident(api).id}/related_incidents"
        "?additional_details[]=incident",
    ),
    "GET /incidents/{id}/related_change_events": lambda api: api.call(
        "GET", f"/incidents/{_after_deploy(api).id}/related_change_events"
    ),
    "POST /incidents/{id}/responder_requests": lambda api: api.call(
        "POST",
        f"/incidents/{_incident(api).id}/responder_requests",
        json={
            "requester_id": api.user("alice@acme.example").id,
            "message": "Join the bridge",
            "responder_request_targets": [
                {"responder_request_target": _ref("user", api.user().id)},
                {
                    "responder_request_target": _ref(
                        "escalation_policy",
                        api.first(api.state.escalation_policies).id,
                    )
                },
            ],
        },
    ),
    "GET /services/{id}/change_events": lambda api: api.call(
        "GET",
        f"/services/{api.first(api.state.services).id}/change_events?total=true",
    ),
    "GET /service_dependencies/technical_services/{id}": lambda api: api.call(
        "GET",
        f"/service_dependencies/technical_services/{api.first(api.state.services).id}",
    ),
    "GET /service_dependencies/business_services/{id}": lambda api: api.call(
        "GET",
        "/service_dependencies/business_services/"
        f"{api.first(api.state.business_services).id}",
    ),
    "GET /business_services": lambda api: api.call(
        "GET", "/business_services?total=true"
    ),
    "GET /alert_grouping_settings": lambda api: api.call(
        "GET", "/alert_grouping_settings?total=true"
    ),
    "GET /alert_grouping_settings/{id}": lambda api: api.call(
        "GET",
        f"/alert_grouping_settings/{api.first(api.state.alert_grouping_settings).id}",
    ),
    "POST /alert_grouping_settings": lambda api: api.call(
        "POST",
        "/alert_grouping_settings",
        json={
            "alert_grouping_setting": {
                "name": "Auth by content",
                "type": "content_based",
                "config": {
                    "aggregate": "any",
                    "fields": ["summary"],
                    "time_window": 900,
                },
                "services": [_ref("service", _ungrouped_service(api).id)],
            }
        },
    ),
    "PUT /alert_grouping_settings/{id}": lambda api: api.call(
        "PUT",
        f"/alert_grouping_settings/{api.first(api.state.alert_grouping_settings).id}",
        json={
            "alert_grouping_setting": {
                "type": "intelligent",
                "config": {"time_window": 0},
            }
        },
    ),
    "DELETE /alert_grouping_settings/{id}": lambda api: api.call(
        "DELETE",
        f"/alert_grouping_settings/{api.first(api.state.alert_grouping_settings).id}",
    ),
    "GET /event_orchestrations/services/{service_id}": lambda api: api.call(
        "GET",
        f"/event_orchestrations/services/{api.first(api.state.services).id}"
        "?include[]=migrated_metadata",
    ),
    "GET /schedules/{id}/users": lambda api: api.call(
        "GET",
        f"/schedules/{api.first(api.state.schedules).id}/users",
        params={
            "since": iso(api.state.now()),
            "until": iso(api.state.now() + timedelta(days=14)),
        },
    ),
    "GET /v3/schedules": lambda api: api.call("GET", "/v3/schedules?total=true"),
    "GET /v3/schedules/{id}": lambda api: api.call(
        "GET",
        f"/v3/schedules/{api.first(api.state.v3_schedules).id}"
        "?include[]=final_schedule",
    ),
}


def _with_alerts(api):
    return next(
        i
        for i in api.state.incidents.values()
        if i.account_id == api.acme.id and len(i.alerts) > 1
    )


def _latest(api):
    return max(
        (i for i in api.state.incidents.values() if i.account_id == api.acme.id),
        key=lambda i: i.created_at,
    )


def _after_deploy(api):
    return next(
        i
        for i in api.state.incidents.values()
        if i.account_id == api.acme.id and i.number % 3 == 1
    )


def _ungrouped_service(api):
    grouped = {
        s for g in api.state.alert_grouping_settings.values() for s in g.service_ids
    }
    return next(
        s
        for s in api.state.services.values()
        if s.account_id == api.acme.id and s.id not in grouped
    )


def _created_subscription(api):
    return api.call(
        "POST",
        "/webhook_subscriptions",
        json={
            "webhook_subscription": {
                "type": "webhook_subscription",
                "delivery_method": {
                    "type": "http_delivery_method",
                    "url": "http://127.0.0.1:9/hook",
                    "custom_headers": [{"name": "X-Env", "value": "demo"}],
                },
                "description": "Portal",
                "events": ["incident.triggered", "incident.resolved"],
                "filter": _ref("service", api.first(api.state.services).id),
            }
        },
    )


def _note_call(api, method):
    incident = next(
        i
        for i in api.state.incidents.values()
        if i.notes and i.account_id == api.acme.id
    )
    path = f"/incidents/{incident.id}/notes/{incident.notes[0].id}"
    if method == "PUT":
        return api.call(method, path, json={"note": {"content": "Edited"}})
    return api.call(method, path)


def _delete_quiet_service(api):
    service = next(
        s
        for s in api.state.services.values()
        if s.account_id == api.acme.id
        and all(
            i.status == "resolved"
            for i in api.state.incidents.values()
            if i.service_id == s.id
        )
    )
    return api.call("DELETE", f"/services/{service.id}")


def _delete_unused_policy(api):
    created = SCENARIOS["POST /escalation_policies"](api).json()
    return api.call(
        "DELETE", f"/escalation_policies/{created['escalation_policy']['id']}"
    )


def _delete_unused_schedule(api):
    created = api.call("POST", "/schedules", json=_schedule_body(api)).json()
    return api.call("DELETE", f"/schedules/{created['schedule']['id']}")


def test_every_route_has_a_fidelity_scenario():
    served = {f"{method} {template}" for method, template, _ in ROUTES}

    assert served == set(SCENARIOS)


@pytest.mark.parametrize("operation", sorted(SCENARIOS))
def test_response_matches_the_openapi_schema(pagerduty_sandbox, operation):
    skip_unless_available(SPEC_PATH.is_file(), f"{SPEC_PATH} is not present")
    method, template = operation.split(" ", 1)

    response = SCENARIOS[operation](Api(pagerduty_sandbox))

    assert response.status_code < 300, f"{operation}: {response.text[:500]}"
    body = response.json() if response.content else None
    validate(method, template, response.status_code, body)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/incidents/PNOPE00", 404),
        ("GET", "/incidents?statuses[]=open", 400),
        ("POST", "/incidents", 400),
    ],
)
def test_error_bodies_match_the_openapi_schema(pagerduty_sandbox, method, path, status):
    skip_unless_available(SPEC_PATH.is_file(), f"{SPEC_PATH} is not present")
    api = Api(pagerduty_sandbox)
    template = path.split("?")[0].replace("PNOPE00", "{id}")

    response = api.call(method, path, json={} if method == "POST" else None)

    assert response.status_code == status
    validate(method, template, status, response.json())
