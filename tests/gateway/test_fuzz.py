"""M13 at framework level: generated JSON-RPC bodies and tool arguments.

Bodies of every shape, in both eras, and tool arguments built from the
tools' own input schemas (then bent): never a 500 or a traceback, and no
PagerDuty call for arguments their schema refuses. HYPOTHESIS_PROFILE=ci
runs the plan's 2,000 examples; the default profile a quarter.
"""

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from integrations.gateway.tools.registry import all_tools
from tests.gateway.mcp_http import LEGACY, MODERN, headers_for, message

pytestmark = pytest.mark.django_db(transaction=True)

SCALE = {"dev": 0.25, "ci": 1, "deep": 10}[os.environ.get("HYPOTHESIS_PROFILE", "dev")]
EXAMPLES = max(50, int(2000 * SCALE))
TOOLS = {tool.name: tool for tool in all_tools()}

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def _value_for(schema: dict):
    kinds = {option.get("type") for option in schema.get("anyOf", [schema])}
    choices = [json_values]
    if "string" in kinds:
        choices.append(
            st.sampled_from(
                [
                    "P1ABC",
                    "triggered",
                    "high",
                    "2026-01-01T00:00:00Z",
                    "../x",
                    "",
                    "é" * 3,
                ]
            )
        )
    if "integer" in kinds:
        choices.append(st.integers(min_value=-5, max_value=500))
    if "array" in kinds:
        choices.append(
            st.lists(st.sampled_from(["triggered", "PABC123", "low", 7]), max_size=4)
        )
    return st.one_of(*choices)


@st.composite
def tool_arguments(draw, tool):
    properties = tool.input_schema.get("properties", {})
    keys = draw(
        st.lists(
            st.sampled_from(sorted(properties) + ["extra"]),
            unique=True,
            max_size=len(properties) + 1,
        )
    )
    return {key: draw(_value_for(properties.get(key, {}))) for key in keys}


@st.composite
def bodies(draw):
    era = draw(st.sampled_from([MODERN, LEGACY]))
    kind = draw(st.sampled_from(["tool", "tool", "tool", "method", "raw"]))
    if kind == "tool":
        name = draw(st.sampled_from([*TOOLS, "no_such_tool"]))
        arguments = (
            draw(tool_arguments(TOOLS[name])) if name in TOOLS else draw(json_values)
        )
        if draw(st.booleans()) and not isinstance(arguments, dict):
            arguments = {"x": arguments}
        body = message(
            "tools/call", {"name": name, "arguments": arguments}, version=era
        )
        return era, body, name, arguments
    if kind == "method":
        method = draw(
            st.sampled_from(
                [
                    "tools/list",
                    "tools/call",
                    "server/discover",
                    "initialize",
                    "ping",
                    "resources/list",
                    "nope",
                ]
            )
        )
        body = message(
            method,
            draw(st.dictionaries(st.text(max_size=8), json_values, max_size=3)),
            version=era,
        )
        return era, body, None, None
    return era, draw(json_values), None, None


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=bodies())
def test_m13_generated_bodies_and_arguments_never_break_the_gateway(
    gateway, token, pagerduty_sandbox, http, case
):
    era, body, name, arguments = case
    before = len(pagerduty_sandbox.request_log)
    headers = headers_for(
        body if isinstance(body, dict) and "method" in body else {"method": "x"},
        token=token,
        version=era,
    )

    response = http.post(gateway.mcp_url, json=body, headers=headers, timeout=30)

    assert response.status_code < 500, response.text[:300]
    assert "Traceback" not in response.text
    if name in TOOLS and isinstance(arguments, dict):
        refused = any(
            Draft202012Validator(TOOLS[name].input_schema).iter_errors(arguments)
        )
        if refused:
            assert len(pagerduty_sandbox.request_log) == before


@pytest.fixture
def http():
    import requests

    with requests.Session() as session:
        yield session
