from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from integrations.pagerduty.workspace.entities import Ref, Span
from integrations.pagerduty.workspace.views.presentation import timeline as _timeline


def test_timeline_draws_hours_in_the_schedules_zone_with_one_colour_per_person():
    alice = Ref("PUSER01", "Alice")
    bob = Ref("PUSER02", "Bob")
    start = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    spans = [
        Span(start, start + timedelta(hours=12), alice),
        Span(start + timedelta(hours=12), start + timedelta(days=14), bob),
    ]

    days, legend = _timeline(spans, start, ZoneInfo("America/New_York"))

    assert len(days) == 14
    assert all(len(day["cells"]) == 24 for day in days)
    first = days[0]["cells"]
    # 12:00 UTC is 07:00 in New York (EST, UTC-5).
    assert [cell["past"] for cell in first[:8]] == [True] * 7 + [False]
    assert first[7]["user"] == alice
    assert first[19]["user"] == bob
    assert legend == [(alice, 0), (bob, 1)]
    assert {cell["colour"] for cell in days[5]["cells"]} == {1}


def test_timeline_leaves_uncovered_hours_empty():
    start = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)

    days, legend = _timeline([], start, UTC)

    assert legend == []
    assert all(cell["user"] is None for day in days for cell in day["cells"])
