"""Classic `read`/`write` spelled out in one place (scopes.expand/is_granted)."""

import pytest

from integrations.pagerduty import scopes as pd_scopes
from integrations.pagerduty.grants import scope_report

PD_SCOPES = pd_scopes.pagerduty_scopes()
READS = {s for s in PD_SCOPES if s.endswith(".read")}


@pytest.mark.parametrize(
    ("scope", "granted", "expected"),
    [
        ("incidents.read", ["openid", "read"], True),
        ("analytics.read", ["openid", "read"], True),
        ("incidents.write", ["openid", "read"], False),
        ("incidents.write", ["openid", "write"], True),
        ("incident_workflows.write", ["write"], True),
        ("users.read", ["write"], True),
        ("openid", ["write"], False),
        ("read", ["write"], False),
        ("incidents.write", ["incidents.read"], False),
        ("incidents.read", ["incidents.read"], True),
        ("incidents.read", ["openid"], False),
        ("incidents.read", ["Read"], False),
    ],
)
def test_is_granted_reads_classic_scopes_as_blanket(scope, granted, expected):
    assert pd_scopes.is_granted(scope, granted) is expected


def test_a_scoped_grant_expands_to_itself():
    granted = ["openid", "incidents.read", "services.read"]

    assert pd_scopes.expand(granted) == frozenset(granted)


def test_classic_read_expands_to_every_read_scope_pagerduty_knows():
    expanded = pd_scopes.expand(["openid", "read"])

    assert expanded == READS | {"openid", "read"}
    assert not any(s.endswith(".write") for s in expanded)
    assert len(READS) > 30


def test_classic_write_expands_to_every_scope_pagerduty_knows():
    expanded = pd_scopes.expand(["openid", "write"])

    assert expanded == PD_SCOPES | {"openid", "write"}
    assert set(pd_scopes.ALL_SCOPES) <= expanded


def test_pagerduty_scopes_include_the_portals_fifteen_and_the_openapi_ones():
    assert set(pd_scopes.ALL_SCOPES) <= PD_SCOPES
    assert {"analytics.read", "incident_workflows.write"} <= PD_SCOPES


def test_scope_report_counts_a_classic_write_grant_as_every_configured_scope():
    report = scope_report(
        configured=list(pd_scopes.ALL_SCOPES),
        requested=["write"],
        granted=["openid", "write"],
    )

    assert report.missing == ()


def test_scope_report_names_what_a_classic_read_grant_lacks():
    report = scope_report(
        configured=["write"], requested=["write"], granted=["openid", "read"]
    )

    assert [m.name for m in report.missing] == ["write"]
    assert report.missing[0].label == "Classic: read/write"
    assert report.missing[0].disables == "changing anything in PagerDuty"
