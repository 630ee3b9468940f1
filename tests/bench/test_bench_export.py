"""bench/export.py against a small sandbox process: the counts it reports
are the sandbox's, for ours and (when installed) PagerDuty's SDK."""

from datetime import UTC, datetime, time, timedelta

import pytest

from bench import export as bench_export
from bench.common import Sandbox
from tests.helpers import skip_unless_available

pytestmark = pytest.mark.django_db

INCIDENTS = 300


@pytest.fixture(scope="module")
def small_sandbox():
    sandbox = Sandbox(incidents=INCIDENTS, services=5, latency_ms=0).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def rig(small_sandbox):
    rig = bench_export._Rig(small_sandbox, slug="acme", name="Acme Corp")
    rig.fresh()
    return rig


def test_ours_exports_every_incident_of_the_range_once(rig):
    since, until = bench_export._full_range(rig)
    expected = rig.ask(
        bench_export.sandbox_count, *bench_export.form_window(since, until)
    )

    export = rig.ours(since, until, collect=True)
    rig.collect()

    assert expected == INCIDENTS
    assert export.rows == expected
    assert export.declared == expected
    assert len(set(export.ids)) == expected
    assert rig.traffic["ours"] == [bench_export.Traffic(requests=4, limited=0)]


def test_ours_counts_rows_without_parsing_them(rig):
    since, until = bench_export._full_range(rig)

    counted = rig.ours(since, until)
    parsed = rig.ours(since, until, collect=True)

    assert counted.rows == parsed.rows == INCIDENTS
    assert counted.ids is None


def test_a_narrower_range_exports_the_sandbox_count_for_it(rig):
    until = bench_export._full_range(rig)[1]
    start = rig.ask(bench_export.nth_newest, 50).date()
    expected = rig.ask(
        bench_export.sandbox_count, *bench_export.form_window(start, until)
    )

    export = rig.ours(start, until)

    assert 50 <= expected < INCIDENTS
    assert export.rows == expected


def test_the_memory_probe_notes_a_peak_at_each_mark_passed(rig):
    since, until = bench_export._full_range(rig)
    probe = bench_export.PeakProbe([100, 200, INCIDENTS + 1])

    export, peak = bench_export.peak_memory(
        lambda: rig.ours(since, until, progress=probe)
    )

    assert export.rows == INCIDENTS
    assert set(probe.peaks) == {100, 200}
    assert 0 < probe.peaks[100] <= probe.peaks[200] <= peak
    assert probe.marks == [INCIDENTS + 1]


def test_sdk_baseline_exports_the_same_incidents_as_ours(rig):
    skip_unless_available(
        bench_export.sdk_available(),
        "PagerDuty's SDK is benchmark-only: make bench-install",
    )
    since, until = bench_export._full_range(rig)

    ours = rig.ours(since, until, collect=True)
    rig.fresh()
    sdk = rig.sdk({"date_range": "all"}, collect=True)
    rig.collect()

    assert sdk.rows == INCIDENTS
    assert set(sdk.ids) == set(ours.ids)
    assert sdk.warnings == []
    assert rig.traffic["sdk"] == [bench_export.Traffic(requests=3, limited=0)]


def test_the_sdk_row_has_ours_columns_and_guards_formulas():
    incident = {
        "id": "P1",
        "incident_number": 7,
        "title": "=cmd()",
        "status": "resolved",
        "urgency": "high",
        "service": {"id": "S1", "summary": "API"},
        "assignments": [{"assignee": {"summary": "Alice"}}],
        "created_at": "2026-01-01T00:00:00Z",
        "resolved_at": "2026-01-01T01:00:00Z",
    }

    row = bench_export.sdk_row(incident)

    assert len(row) == len(bench_export.COLUMNS)
    assert row[:3] == ["P1", 7, "'=cmd()"]
    assert row[6:10] == ["S1", "API", "", "Alice"]


def test_traffic_leaves_out_control_calls_and_counts_429s():
    log = [
        {"method": "GET", "path": "/incidents", "status": 200},
        {"method": "GET", "path": "/incidents", "status": 429},
        {"method": "POST", "path": "/_sandbox/tokens", "status": 429},
    ]

    assert bench_export.Traffic.of(log) == bench_export.Traffic(requests=2, limited=1)


def test_form_window_is_whole_utc_days_and_ends_by_now():
    today = datetime.now(UTC).date()

    past = bench_export.form_window(today - timedelta(days=9), today - timedelta(3))
    current = bench_export.form_window(today - timedelta(days=1), today)

    assert past == (
        datetime.combine(today - timedelta(days=9), time.min, tzinfo=UTC),
        datetime.combine(today - timedelta(days=2), time.min, tzinfo=UTC),
    )
    assert current[1] <= datetime.now(UTC)
