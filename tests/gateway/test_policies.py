"""The pure policy decision, as a table (M24, M29 defaults, layering)."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from integrations.gateway.policies import (
    ALLOW,
    APPROVAL,
    DENY,
    Call,
    Rule,
    arguments_hash,
    delivery_hosts,
    evaluate,
    incident_ids,
    validate_conditions,
)

NOON = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
NIGHT = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)


def call(
    tool, read_only=False, arguments=None, *, role="member", client="c1", now=NOON
):
    return Call(
        tool=tool,
        read_only=read_only,
        role=role,
        client=client,
        now=now,
        arguments=arguments,
    )


def webhook(url):
    return {
        "webhook_data": {
            "delivery_method": {"type": "http_delivery_method", "url": url},
            "events": ["incident.triggered"],
            "filter": {"type": "account_reference"},
        }
    }


MORE_THAN_2 = Rule(APPROVAL, ({"when": "incident_count", "op": "gt", "value": 2},))
HIGH = Rule(DENY, ({"when": "urgency", "op": "in", "value": ["high"]},))
MEMBERS = Rule(DENY, ({"when": "role", "op": "in", "value": ["member"]},))
OUTSIDE = Rule(
    DENY,
    ({"when": "delivery_host", "op": "not_in", "value": ["hooks.acme.example"]},),
)


@pytest.mark.parametrize(
    ("subject", "environment_rule", "tenant_rule", "hosts", "expected", "source"),
    [
        # Built-in defaults, by tool name then by class.
        (call("list_incidents", True, {}), None, None, (), ALLOW, "default"),
        (call("who_is_on_call", True, None), None, None, (), ALLOW, "default"),
        (call("acknowledge_incidents", False, {}), None, None, (), ALLOW, "default"),
        (call("add_note_to_incident", False, {}), None, None, (), ALLOW, "default"),
        (call("add_incident_note", False, {}), None, None, (), ALLOW, "default"),
        (call("resolve_incidents", False, {}), None, None, (), APPROVAL, "default"),
        (call("reassign_incident", False, {}), None, None, (), APPROVAL, "default"),
        (call("escalate_incident", False, {}), None, None, (), APPROVAL, "default"),
        (call("create_incident", False, {}), None, None, (), APPROVAL, "default"),
        (call("delete_team", False, {}), None, None, (), APPROVAL, "default"),
        (call("a_tool_added_tomorrow", False, {}), None, None, (), APPROVAL, "default"),
        (call("a_read_added_tomorrow", True, {}), None, None, (), ALLOW, "default"),
        (call("not_registered", None, {}), None, None, (), DENY, "default"),
        (
            call(
                "manage_incidents",
                False,
                {"manage_request": {"incident_ids": ["P1"], "status": "acknowledged"}},
            ),
            None,
            None,
            (),
            ALLOW,
            "default",
        ),
        (
            call(
                "manage_incidents",
                False,
                {
                    "manage_request": {
                        "incident_ids": ["P1"],
                        "status": " ACKNOWLEDGED ",
                    }
                },
            ),
            None,
            None,
            (),
            ALLOW,
            "default",
        ),
        (
            call(
                "manage_incidents",
                False,
                {"manage_request": {"incident_ids": ["P1"], "status": "resolved"}},
            ),
            None,
            None,
            (),
            APPROVAL,
            "default",
        ),
        (
            call(
                "manage_incidents",
                False,
                {
                    "manage_request": {
                        "incident_ids": ["P1"],
                        "status": "acknowledged",
                        "escalation_level": 2,
                    }
                },
            ),
            None,
            None,
            (),
            APPROVAL,
            "default",
        ),
        (
            call(
                "manage_incidents",
                False,
                {
                    "manage_request": {
                        "incident_ids": ["P1"],
                        "status": "acknowledged",
                        "assignement": {"id": "PU1"},
                    }
                },
            ),
            None,
            None,
            (),
            APPROVAL,
            "default",
        ),
        (call("manage_incidents", False, None), None, None, (), APPROVAL, "default"),
        # Webhooks: outside the allowed hosts denied, inside held (M29).
        (
            call(
                "create_webhook_subscription", False, webhook("https://evil.example/x")
            ),
            None,
            None,
            ("hooks.acme.example",),
            DENY,
            "default",
        ),
        (
            call(
                "create_webhook_subscription",
                False,
                webhook("https://hooks.acme.example/x"),
            ),
            None,
            None,
            ("hooks.acme.example",),
            APPROVAL,
            "default",
        ),
        (
            call(
                "update_webhook_subscription", False, webhook("https://evil.example/x")
            ),
            None,
            None,
            (),
            DENY,
            "default",
        ),
        (
            call("create_webhook_subscription", False, None),
            None,
            None,
            (),
            APPROVAL,
            "default",
        ),
        # Staff's own host list (an environment rule) replaces the setting's.
        (
            call(
                "create_webhook_subscription",
                False,
                webhook("https://hooks.acme.example/x"),
            ),
            OUTSIDE,
            None,
            (),
            APPROVAL,
            "default",
        ),
        (
            call(
                "create_webhook_subscription", False, webhook("https://evil.example/x")
            ),
            OUTSIDE,
            None,
            (),
            DENY,
            "environment",
        ),
        # The environment's rule replaces the default when its conditions hold.
        (
            call("acknowledge_incidents", False, {"incident_ids": ["P1", "P2", "P3"]}),
            MORE_THAN_2,
            None,
            (),
            APPROVAL,
            "environment",
        ),
        (
            call("acknowledge_incidents", False, {"incident_ids": ["P1", "P2"]}),
            MORE_THAN_2,
            None,
            (),
            ALLOW,
            "default",
        ),
        (
            call("acknowledge_incidents", False, {}),
            Rule(DENY),
            None,
            (),
            DENY,
            "environment",
        ),
        (
            call("list_incidents", True, {}, role="member"),
            MEMBERS,
            None,
            (),
            DENY,
            "environment",
        ),
        (
            call("list_incidents", True, {}, role="admin"),
            MEMBERS,
            None,
            (),
            ALLOW,
            "default",
        ),
        (
            call("list_incidents", True, {}, client="c2"),
            Rule(DENY, ({"when": "client", "op": "in", "value": ["c2"]},)),
            None,
            (),
            DENY,
            "environment",
        ),
        (
            call("list_incidents", True, {}, now=NIGHT),
            Rule(APPROVAL, ({"when": "hour_utc", "op": "in", "value": [0, 1, 2, 3]},)),
            None,
            (),
            APPROVAL,
            "environment",
        ),
        (
            call("list_incidents", True, {}, now=NOON),
            Rule(APPROVAL, ({"when": "hour_utc", "op": "in", "value": [0, 1, 2, 3]},)),
            None,
            (),
            ALLOW,
            "default",
        ),
        # A tenant may tighten always; loosen only where staff let it.
        (call("list_incidents", True, {}), None, Rule(DENY), (), DENY, "tenant"),
        (
            call("acknowledge_incidents", False, {}),
            None,
            Rule(APPROVAL),
            (),
            APPROVAL,
            "tenant",
        ),
        (
            call("resolve_incidents", False, {}),
            None,
            Rule(ALLOW),
            (),
            APPROVAL,
            "default",
        ),
        (
            call("resolve_incidents", False, {}),
            Rule(APPROVAL),
            Rule(ALLOW),
            (),
            APPROVAL,
            "environment",
        ),
        (
            call("resolve_incidents", False, {}),
            Rule(APPROVAL, tenant_may_loosen=True),
            Rule(ALLOW),
            (),
            ALLOW,
            "tenant",
        ),
        (
            call("acknowledge_incidents", False, {}),
            Rule(DENY),
            Rule(APPROVAL),
            (),
            DENY,
            "environment",
        ),
        # Listing: only rules on the caller can hide a tool.
        (call("acknowledge_incidents", False, None), HIGH, None, (), ALLOW, "default"),
        (
            call("acknowledge_incidents", False, None),
            MEMBERS,
            None,
            (),
            DENY,
            "environment",
        ),
    ],
)
def test_decision_table(
    subject, environment_rule, tenant_rule, hosts, expected, source
):
    verdict = evaluate(
        subject,
        environment_rule=environment_rule,
        tenant_rule=tenant_rule,
        webhook_hosts=hosts,
    )

    assert (verdict.action, verdict.source) == (expected, source)
    assert verdict.reason


@pytest.mark.parametrize(
    "arguments",
    [
        {"incident_ids": ["P1", "P2", "P3"]},
        {"incident_ids": ["p1", " P2 ", "P3"]},
        {"manage_request": {"incident_ids": ["P1", "P2", "P3"]}},
        {"a": [{"b": {"incident_ids": ["P1"]}}, {"INCIDENT_IDS": ["P2", "P3"]}]},
        {"incident_id": "P1", "incident_ids": ["P2", "P3"]},
        {" Incident_Ids ": ["P1", "P2", "P3"]},
    ],
)
def test_m24_more_than_n_incidents_holds_however_they_are_spelled(arguments):
    verdict = evaluate(
        call("acknowledge_incidents", False, arguments), environment_rule=MORE_THAN_2
    )

    assert verdict.action == APPROVAL


@pytest.mark.parametrize(
    "arguments",
    [
        {"incident_ids": ["P1", "P1", "p1", " P1", "P2"]},
        {"incident_ids": ["P1"], "nested": {"incident_ids": ["p1", "P2"]}},
    ],
)
def test_m24_duplicates_do_not_count_twice(arguments):
    verdict = evaluate(
        call("acknowledge_incidents", False, arguments), environment_rule=MORE_THAN_2
    )

    assert verdict.action == ALLOW
    assert incident_ids(arguments) == {"P1", "P2"}


@pytest.mark.parametrize(
    "arguments",
    [
        {"manage_request": {"incident_ids": ["P1"], "urgency": "high"}},
        {"manage_request": {"incident_ids": ["P1"], "urgency": "HIGH"}},
        {"manage_request": {"incident_ids": ["P1"], "urgency": " high\t"}},
        {"x": [{"y": [{"Urgency": "High"}]}]},
        {"urgency": ["low", "high"]},
    ],
)
def test_m24_urgency_high_is_denied_however_it_is_spelled(arguments):
    verdict = evaluate(
        call("manage_incidents", False, arguments), environment_rule=HIGH
    )

    assert verdict.action == DENY


@pytest.mark.parametrize(
    ("url", "outside"),
    [
        ("https://hooks.acme.example/pd", False),
        ("https://HOOKS.ACME.EXAMPLE./pd", False),
        ("  https://hooks.acme.example:8443/pd ", False),
        ("https://evil.example/pd", True),
        ("https://hooks.acme.example@evil.example/pd", True),
        ("https://hooks.acme.example.evil.example/pd", True),
        ("https://evil.example\\@hooks.acme.example/", True),
        ("javascript:alert(1)", True),
        ("ftp://hooks.acme.example/", True),
        ("hooks.acme.example", True),
        ("https://[::1]/", True),
        ("", True),
    ],
)
def test_m24_a_delivery_host_outside_the_list_is_caught(url, outside):
    by_default = evaluate(
        call("update_webhook_subscription", False, webhook(url)),
        webhook_hosts=["hooks.acme.example"],
    )
    by_rule = evaluate(
        call("a_new_webhook_tool", False, webhook(url)), environment_rule=OUTSIDE
    )

    assert by_default.action == (DENY if outside else APPROVAL)
    assert by_rule.source == ("environment" if outside else "default")


def test_m24_a_second_url_hidden_in_a_list_is_caught():
    arguments = {
        "webhook_data": {
            "delivery_method": [
                {"url": "https://hooks.acme.example/a"},
                {"url": "https://evil.example/b"},
            ]
        }
    }

    assert delivery_hosts(arguments) == {"hooks.acme.example", "evil.example"}
    assert (
        evaluate(
            call("update_webhook_subscription", False, arguments),
            webhook_hosts=["hooks.acme.example"],
        ).action
        == DENY
    )


def test_m24_nesting_deeper_than_the_walk_makes_conditions_hold():
    deep = {"incident_ids": ["P1"]}
    for _ in range(50):
        deep = {"n": deep}

    verdict = evaluate(
        call("acknowledge_incidents", False, deep), environment_rule=MORE_THAN_2
    )

    assert verdict.action == APPROVAL


@pytest.mark.parametrize(
    "conditions",
    [
        "x",
        [{"when": "incident_count", "op": "gt"}],
        [{"when": "nope", "op": "in", "value": ["a"]}],
        [{"when": "incident_count", "op": "in", "value": 3}],
        [{"when": "incident_count", "op": "gt", "value": "3"}],
        [{"when": "incident_count", "op": "gt", "value": True}],
        [{"when": "urgency", "op": "in", "value": "high"}],
        [{"when": "urgency", "op": "in", "value": []}],
        [{"when": "urgency", "op": "in", "value": ["x" * 201]}],
        [{"when": "hour_utc", "op": "in", "value": [24]}],
        [{"when": "role", "op": "in", "value": ["admin"], "extra": 1}],
        [{"when": "role", "op": "in", "value": ["admin"]}] * 11,
    ],
)
def test_invalid_conditions_are_refused(conditions):
    with pytest.raises(ValidationError):
        validate_conditions(conditions)


def test_conditions_are_stored_normalized():
    cleaned = validate_conditions(
        [
            {"when": "urgency", "op": "in", "value": [" HIGH", "high", "Low "]},
            {"when": "hour_utc", "op": "not_in", "value": [9, 8, 9]},
        ]
    )

    assert cleaned == [
        {"when": "urgency", "op": "in", "value": ["high", "low"]},
        {"when": "hour_utc", "op": "not_in", "value": [8, 9]},
    ]


def test_the_arguments_hash_ignores_key_order_only():
    assert arguments_hash({"a": 1, "b": [1, 2]}) == arguments_hash(
        {"b": [1, 2], "a": 1}
    )
    assert arguments_hash({"a": 1, "b": [1, 2]}) != arguments_hash(
        {"a": 1, "b": [2, 1]}
    )
