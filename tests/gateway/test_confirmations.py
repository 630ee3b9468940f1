"""M23: "are you sure?" by elicitation (the 2026-07-28 input-required round trip).

A `confirm` policy asks the person through their client; the signed
requestState binds agent, person, tool and arguments; tampering, replay,
other arguments and a "no" are refused; a client that cannot elicit gets
the approval flow instead; another worker (another process, same key and
Redis) accepts the state and spends it for everyone.
"""

import json
import os
import socket
import subprocess
import sys

import mcp_types as types
import pytest

from integrations.gateway.approvals import approval_decide
from integrations.gateway.models import Approval, ToolCall, ToolPolicy
from integrations.models import Environment
from tests.gateway.agent import Agent
from tests.gateway.conftest import PASSWORD
from tests.gateway.mcp_http import LEGACY, MODERN, message, post, result
from tests.helpers import skip_unless_available

pytestmark = pytest.mark.django_db(transaction=True)

ELICITING = {"elicitation": {"form": {}}}
YES = {"confirm": {"action": "accept", "content": {"confirm": True}}}
NO = {"confirm": {"action": "decline"}}


def _triggered(sandbox) -> str:
    with sandbox.state.lock:
        acme = next(
            a.id for a in sandbox.state.accounts.values() if a.subdomain == "acme"
        )
        return next(
            i.id
            for i in sandbox.state.incidents.values()
            if i.account_id == acme and i.status == "triggered"
        )


def _puts(sandbox) -> int:
    return sandbox.count("/incidents", method="PUT")


@pytest.fixture
def confirm_rule(db):
    return ToolPolicy.objects.create(
        environment=Environment.objects.get(slug="development"),
        tool="acknowledge_incidents",
        action="confirm",
    )


def ack(url, token, arguments, *, capabilities=ELICITING, version=MODERN, **extra):
    body = message(
        "tools/call",
        {"name": "acknowledge_incidents", "arguments": arguments, **extra},
        version=version,
    )
    if version == MODERN:
        body["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"] = (
            capabilities
        )
    return result(post(url, body, token=token, version=version))


def test_m23_the_person_confirms_and_the_call_runs_once(
    gateway, token, confirm_rule, pagerduty_sandbox
):
    incident = _triggered(pagerduty_sandbox)
    arguments = {"incident_ids": [incident]}
    before = _puts(pagerduty_sandbox)

    asked = ack(gateway.mcp_url, token, arguments)
    after_ask = _puts(pagerduty_sandbox)
    state = asked["requestState"]
    ran = ack(gateway.mcp_url, token, arguments, requestState=state, inputResponses=YES)
    replayed = ack(
        gateway.mcp_url, token, arguments, requestState=state, inputResponses=YES
    )

    assert asked["resultType"] == "input_required"
    form = asked["inputRequests"]["confirm"]
    assert form["method"] == "elicitation/create"
    assert incident in form["params"]["message"]
    assert form["params"]["requestedSchema"]["required"] == ["confirm"]
    assert after_ask == before
    assert ran["isError"] is False
    assert ran["structuredContent"] == {"acknowledged": 1, "incident_ids": [incident]}
    assert replayed["structuredContent"]["error"]["code"] == "confirmation_replayed"
    assert _puts(pagerduty_sandbox) == before + 1
    assert list(ToolCall.objects.order_by("id").values_list("outcome", "reason")) == [
        ("held", "confirmation_asked"),
        ("succeeded", ""),
        ("refused", "confirmation_replayed"),
    ]


def test_m23_tampered_foreign_or_declined_confirmations_are_refused(
    gateway, token, issue_token, alice, acme, confirm_rule, pagerduty_sandbox
):
    incident = _triggered(pagerduty_sandbox)
    arguments = {"incident_ids": [incident]}
    state = ack(gateway.mcp_url, token, arguments)["requestState"]
    other_agent = issue_token(alice, acme).access
    before = _puts(pagerduty_sandbox)
    flipped = state[:-3] + ("A" if state[-3] != "A" else "B") + state[-2:]

    answers = [
        ack(
            gateway.mcp_url, token, arguments, requestState=flipped, inputResponses=YES
        ),
        ack(gateway.mcp_url, token, arguments, requestState="x", inputResponses=YES),
        ack(
            gateway.mcp_url,
            token,
            {"incident_ids": ["PZZZZZZ"]},
            requestState=state,
            inputResponses=YES,
        ),
        ack(
            gateway.mcp_url,
            other_agent,
            arguments,
            requestState=state,
            inputResponses=YES,
        ),
        ack(gateway.mcp_url, token, arguments, requestState=state, inputResponses=NO),
    ]

    assert [a["structuredContent"]["error"]["code"] for a in answers] == [
        "confirmation_invalid",
        "confirmation_invalid",
        "confirmation_invalid",
        "confirmation_invalid",
        "confirmation_declined",
    ]
    assert _puts(pagerduty_sandbox) == before
    # None of those spent it: the person's real "yes" still runs the call.
    ran = ack(gateway.mcp_url, token, arguments, requestState=state, inputResponses=YES)
    assert ran["isError"] is False


@pytest.mark.parametrize(
    ("version", "capabilities"),
    [(MODERN, {}), (MODERN, {"elicitation": {"url": {}}}), (LEGACY, None)],
)
def test_m23_a_client_that_cannot_elicit_gets_the_approval_flow(
    gateway, token, confirm_rule, pagerduty_sandbox, version, capabilities
):
    before = _puts(pagerduty_sandbox)

    held = ack(
        gateway.mcp_url,
        token,
        {"incident_ids": [_triggered(pagerduty_sandbox)]},
        capabilities=capabilities,
        version=version,
    )

    assert held["structuredContent"]["status"] == "held"
    approval = Approval.objects.get()
    assert approval.public_id == held["structuredContent"]["approval"]["id"]
    assert _puts(pagerduty_sandbox) == before

    # A tenant admin approves; the retry redeems it like any held call's.
    approval_decide(approval=approval, actor=None, approve=True, reason="ok")
    arguments = {**held["structuredContent"]["approval"]["arguments"]}
    ran = ack(
        gateway.mcp_url,
        token,
        {**arguments, "approval_id": approval.public_id},
        capabilities=capabilities,
        version=version,
    )

    assert not ran.get("isError"), ran
    assert _puts(pagerduty_sandbox) == before + 1


def test_m23_the_sdk_client_confirms_through_its_elicitation_callback(
    gateway, acme, alice, visitor, confirm_rule, pagerduty_sandbox
):
    asked = []

    async def person(context, params):
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"confirm": True})

    agent = Agent(
        gateway.mcp_url,
        visitor,
        "alice",
        PASSWORD,
        tenant_id=acme.pk,
        elicitation_callback=person,
    )
    incident = _triggered(pagerduty_sandbox)
    before = _puts(pagerduty_sandbox)

    async def work(client):
        return await client.call_tool(
            "acknowledge_incidents", {"incident_ids": [incident]}
        )

    ran = agent.run(work)

    assert len(asked) == 1
    assert "acknowledge_incidents" in asked[0]
    assert ran.is_error is False
    assert ran.structured_content == {"acknowledged": 1, "incident_ids": [incident]}
    assert _puts(pagerduty_sandbox) == before + 1


def _redis_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


# Another worker: a separate process with the deployment's settings and Redis.
WORKER = """
import json, sys, types
import django
django.setup()
from django.conf import settings
settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
    "LOCATION": sys.argv[1], "KEY_PREFIX": sys.argv[2]}}
from integrations.gateway.confirmations import ConfirmationRefused, confirmation_redeem
claims = json.loads(sys.argv[3])
agent = types.SimpleNamespace(
    pk=claims["a"], user_id=claims["u"], client_id=claims["c"])
try:
    confirmation_redeem(state=claims["state"], accepted=True, authorization=agent,
        tool="acknowledge_incidents", arguments=claims["arguments"])
except ConfirmationRefused as exc:
    print(exc.code)
else:
    print("ok")
"""


def test_m23_another_worker_accepts_the_state_and_shares_its_spending(
    gateway, token, confirm_rule, pagerduty_sandbox, settings
):
    skip_unless_available(_redis_reachable(), "no Redis server on 127.0.0.1:6379")
    location = "redis://127.0.0.1:6379/6"
    prefix = f"governance-test-{os.getpid()}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
            "KEY_PREFIX": prefix,
        }
    }
    arguments = {"incident_ids": [_triggered(pagerduty_sandbox)]}
    state = ack(gateway.mcp_url, token, arguments)["requestState"]
    call = ToolCall.objects.get()
    claims = {
        "a": call.authorization_id,
        "u": call.user_id,
        "c": call.client_id,
        "state": state,
        "arguments": arguments,
    }
    before = _puts(pagerduty_sandbox)

    worker = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", WORKER, location, prefix, json.dumps(claims)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings.test"},
        check=False,
    )
    here = ack(
        gateway.mcp_url, token, arguments, requestState=state, inputResponses=YES
    )

    assert worker.stdout.strip() == "ok", worker.stderr[-2000:]
    assert here["structuredContent"]["error"]["code"] == "confirmation_replayed"
    assert _puts(pagerduty_sandbox) == before
