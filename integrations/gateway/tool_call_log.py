"""The tool-call log's chart and CSV: calls, refusals and p95 latency.

The chart is computed here and drawn by a template as inline SVG (no
script, no style attribute), so the pages keep a strict CSP.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet

from integrations.gateway.models import ToolCall
from integrations.pagerduty.workspace.export import csv_safe

# Refusals in the chart: refused by a check (budget, scope, arguments) or
# denied by a policy. Held calls are pending, not refused.
REFUSALS = frozenset({ToolCall.Outcome.REFUSED, ToolCall.Outcome.DENIED})
# Bucket widths, smallest first; the first that gives at most MAX_BUCKETS.
WIDTHS = [
    timedelta(minutes=minutes)
    for minutes in (1, 5, 15, 30, 60, 180, 360, 720, 1440, 10080)
]
MAX_BUCKETS = 48
# Rows read for one chart; a wider range shows the newest rows only.
MAX_ROWS = 100_000
WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 56, 12, 28
CSV_COLUMNS = [
    "time_utc",
    "tenant",
    "user",
    "client",
    "tool",
    "outcome",
    "reason",
    "message",
    "arguments_masked",
    "pagerduty_status",
    "latency_ms",
    "protocol_version",
    "request_id",
]


@dataclass(frozen=True)
class Bucket:
    start: datetime
    calls: int
    refusals: int
    p95_ms: int | None
    # SVG geometry, in the viewBox's units.
    x: float
    width: float
    calls_y: float
    calls_height: float
    refusals_y: float
    refusals_height: float
    p95_y: float | None

    @property
    def p95_x(self) -> float:
        return self.x + self.width / 2


@dataclass(frozen=True)
class Chart:
    since: datetime
    until: datetime
    step: timedelta
    buckets: list[Bucket]
    max_calls: int
    max_p95_ms: int
    total_calls: int
    total_refusals: int
    p95_ms: int | None
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def step_minutes(self) -> int:
        return int(self.step.total_seconds() // 60)

    @property
    def p95_points(self) -> str:
        """Return the p95 polyline's points ("x,y x,y")."""
        return " ".join(
            f"{b.p95_x:.1f},{b.p95_y:.1f}" for b in self.buckets if b.p95_y is not None
        )

    @property
    def plot(self) -> dict:
        """Return the plot area's edges, for axes and labels."""
        return {
            "left": LEFT,
            "right": WIDTH - RIGHT,
            "top": TOP,
            "bottom": HEIGHT - BOTTOM,
            "label_y": HEIGHT - BOTTOM + 18,
            "right_label_x": WIDTH - RIGHT + 6,
        }


def percentile_95(values: list[int]) -> int | None:
    """Return the nearest-rank 95th percentile, or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]


def bucket_width(since: datetime, until: datetime) -> timedelta:
    span = until - since
    for width in WIDTHS:
        if span / width <= MAX_BUCKETS:
            return width
    return WIDTHS[-1]


def tool_call_chart(
    calls: QuerySet[ToolCall], *, since: datetime, until: datetime
) -> Chart:
    """Return calls, refusals and p95 latency per time bucket of [since, until)."""
    step = bucket_width(since, until)
    # Align buckets on the step so that pages agree from one load to the next.
    epoch = datetime(2000, 1, 1, tzinfo=since.tzinfo)
    start = since - (since - epoch) % step
    count = max(1, math.ceil((until - start) / step))
    counted = [[0, 0, []] for _ in range(count)]
    rows = (
        calls.filter(created_at__gte=start, created_at__lt=until)
        .order_by("-created_at")
        .values_list("created_at", "outcome", "latency_ms")[:MAX_ROWS]
    )
    latencies = []
    for created_at, outcome, latency_ms in rows:
        index = min(int((created_at - start) / step), count - 1)
        counted[index][0] += 1
        counted[index][1] += outcome in REFUSALS
        counted[index][2].append(latency_ms)
        latencies.append(latency_ms)
    p95s = [percentile_95(latency) for _, _, latency in counted]
    max_calls = max((calls for calls, _, _ in counted), default=0)
    max_p95 = max((p for p in p95s if p is not None), default=0)
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    slot = plot_width / count
    bottom = HEIGHT - BOTTOM

    def height_of(value: int, top: int) -> float:
        return plot_height * value / top if top else 0.0

    buckets = []
    for index, ((total, refused, _), p95) in enumerate(zip(counted, p95s, strict=True)):
        calls_height = height_of(total, max_calls)
        refusals_height = height_of(refused, max_calls)
        buckets.append(
            Bucket(
                start=start + step * index,
                calls=total,
                refusals=refused,
                p95_ms=p95,
                x=LEFT + slot * index + slot * 0.1,
                width=slot * 0.8,
                calls_y=bottom - calls_height,
                calls_height=calls_height,
                refusals_y=bottom - refusals_height,
                refusals_height=refusals_height,
                p95_y=None if p95 is None else bottom - height_of(p95, max_p95),
            )
        )
    return Chart(
        since=start,
        until=until,
        step=step,
        buckets=buckets,
        max_calls=max_calls,
        max_p95_ms=max_p95,
        total_calls=sum(b.calls for b in buckets),
        total_refusals=sum(b.refusals for b in buckets),
        p95_ms=percentile_95(latencies),
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def tool_call_csv(calls: QuerySet[ToolCall]) -> Iterator[str]:
    """Yield the calls as CSV lines, formula-safe, header first."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for call in calls.iterator(chunk_size=1000):
        yield writer.writerow(
            [
                csv_safe(value)
                for value in (
                    call.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    call.tenant.name if call.tenant else "",
                    call.user_label,
                    call.client_label,
                    call.tool,
                    call.outcome,
                    call.reason,
                    call.message,
                    _arguments_text(call.arguments),
                    call.pagerduty_status or "",
                    call.latency_ms,
                    call.protocol_version,
                    call.request_id,
                )
            ]
        )


def _arguments_text(arguments) -> str:
    return json.dumps(arguments, sort_keys=True, ensure_ascii=False)
