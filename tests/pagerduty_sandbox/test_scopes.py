"""The sandbox knows PagerDuty's scopes from the OpenAPI file, not the portal."""

import ast
from pathlib import Path

import pytest

from integrations.pagerduty import scopes as portal_scopes
from pagerduty_sandbox import scopes
from pagerduty_sandbox.seed import DEMO_SCOPES

SANDBOX = Path(scopes.__file__).resolve().parent


def test_the_portals_scope_table_is_a_subset_of_pagerdutys():
    known = set(scopes.known_scopes())

    assert set(portal_scopes.ALL_SCOPES) <= known
    for resource in portal_scopes.RESOURCES:
        assert resource.read in known
        assert resource.write is None or resource.write in known


def test_known_scopes_are_every_scope_an_operation_requires():
    required = set(scopes.spec_data()["scopes"].values())

    assert set(scopes.known_scopes()) == required
    assert "change_events.read" in required
    assert "incidents.read" in required


def test_resources_pair_read_and_write_scopes_by_name():
    rows = {r.name: r for r in scopes.resources()}

    assert rows["incidents"].read == "incidents.read"
    assert rows["incidents"].write == "incidents.write"
    assert rows["oncalls"].write is None
    assert rows["users:contact_methods"].label == "Users: Contact Methods"
    assert rows["sre_agent"].read is None


def test_canonical_keeps_known_scopes_in_table_order():
    assert (
        scopes.canonical(["services.read", "nope.read", "incidents.read"])
        == "incidents.read services.read"
    )


def test_demo_app_scopes_are_checked_against_pagerdutys_list():
    assert set(DEMO_SCOPES) == set(portal_scopes.ALL_SCOPES)
    with pytest.raises(ValueError, match="oncall.read"):
        scopes.require_known(["incidents.read", "oncall.read"])


def test_sandbox_code_does_not_import_the_portals_scope_table():
    importers = []
    for path in SANDBOX.rglob("*.py"):
        if "management" in path.parts:
            continue  # the commands configure the portal, so they use its models
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "integrations"
            ):
                importers.append(path.name)

    assert importers == []
