"""Incident export (issue 8): the portal's streamed CSV against PagerDuty's
official SDK, then an export past the SDK's 10,000-result stop.

Ours is the real thing in-process: the Django test client GETs
`integrations:incident_export_csv` and the benchmark reads the streamed
body, so the view, the plan, the concurrent pages, token handling and the
CSV are all measured. The SDK (`pagerduty` 6.x, bench/requirements.txt)
runs `iter_all("incidents")` and writes the same columns to a sink.

Budget: every timed export starts right after `POST /_sandbox/reset`
(re-seeded world, refilled rate-limit windows, new tokens), so each one
lives within a fresh 960-per-minute budget, as a user's first export of a
minute would, instead of a raised limit; back-to-back runs in one minute
would otherwise spend it and measure waiting, not exporting.
"""

import csv
import io
import math
import os
import resource
import time
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import requests

from bench.common import (
    ConnectedTenant,
    Sandbox,
    Stats,
    connect_tenant,
    count_upstream,
    expect_status,
    paired_ratios,
)

SDK_PAIRS = 5
LARGE_INCIDENTS = 25_000
LARGE_RUNS = 2
MEMORY_RUNS = 2
OFFSET_CAP = 10_000
# PagerDuty's since/until may be at most 6 months apart.
SLICE = timedelta(days=180)
COUNT_USER = "carol@acme.example"
COLUMNS = (
    "id",
    "incident_number",
    "title",
    "status",
    "urgency",
    "priority",
    "service_id",
    "service_name",
    "escalation_policy",
    "assignees",
    "created_at",
    "last_status_change_at",
    "resolved_at",
    "html_url",
)
FORMULA = ("=", "+", "-", "@", "\t", "\r")
# Ours asks for these too: a stable order for offsets, UTC timestamps.
ORDER = {"sort_by": "created_at:asc", "time_zone": "UTC"}


@dataclass
class Export:
    """What one export produced: rows (and their ids when collected)."""

    rows: int = 0
    ids: list[str] | None = None
    declared: int | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class Traffic:
    """The sandbox log of one export: API requests and 429 answers."""

    requests: int
    limited: int

    @classmethod
    def of(cls, log: list[dict]) -> "Traffic":
        return cls(
            requests=count_upstream(log),
            limited=sum(
                1
                for entry in log
                if entry["status"] == 429 and not entry["path"].startswith("/_sandbox")
            ),
        )


# --- Ours: the portal's view through the Django test client ---


def export_ours(
    tenant: ConnectedTenant,
    client,
    since: date,
    until: date,
    *,
    collect=False,
    progress: Callable[[int], object] | None = None,
) -> Export:
    """Stream the portal's CSV for [since, until] and count its rows.

    Chunks are counted and dropped; with `collect` the body is parsed as
    CSV and the incident ids are kept (for checks, not for timing).
    `progress` is called with the rows read so far after every chunk.
    """
    response = expect_status(
        client.get(
            tenant.path("incident_export_csv"),
            {"since": since.isoformat(), "until": until.isoformat()},
        )
    )
    if not response.streaming:
        raise RuntimeError("the export answered without streaming")
    lines, parts = 0, []
    # The test client closes the response once the stream ends; closing it
    # again would fire request_finished and close the database connection.
    for chunk in response.streaming_content:
        lines += chunk.count(b"\n")
        if collect:
            parts.append(chunk)
        if progress:
            progress(lines - 1)
    declared = response.get("X-Export-Total")
    result = Export(rows=lines - 1, declared=int(declared) if declared else None)
    if collect:
        table = list(csv.reader(io.StringIO(b"".join(parts).decode())))
        if tuple(table[0]) != COLUMNS or table[-1][0].startswith("#"):
            raise RuntimeError(f"unexpected export: {table[0]} … {table[-1]}")
        result.ids = [row[0] for row in table[1:]]
        result.rows = len(result.ids)
    return result


# --- The SDK: iter_all, the way its documentation pages an index ---


class _PlainHttp:
    """An httpx transport that sends the SDK's https:// URLs over http.

    The SDK refuses a base URL that is not https; the sandbox listens on
    plain HTTP on loopback.
    """

    def __init__(self):
        import httpx

        self.inner = httpx.HTTPTransport()

    def handle_request(self, request):
        request.url = request.url.copy_with(scheme="http")
        return self.inner.handle_request(request)

    def close(self):
        self.inner.close()


def sdk_available() -> bool:
    try:
        import pagerduty  # noqa: F401
    except ImportError:
        return False
    return True


def export_sdk(sandbox: Sandbox, token: str, params: dict, *, collect=False) -> Export:
    """Page `/incidents` with the SDK's `iter_all` and write CSV rows."""
    import pagerduty

    https = sandbox.url.replace("http://", "https://", 1)
    sdk = pagerduty.RestApiV2Client(
        token,
        auth_type="oauth2",
        base_url=https,
        transport=_PlainHttp(),
    )
    sink = _Sink()
    writer = csv.writer(sink)
    writer.writerow(COLUMNS)
    result = Export(ids=[] if collect else None)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for incident in sdk.iter_all("incidents", params={**ORDER, **params}):
                writer.writerow(sdk_row(incident))
                result.rows += 1
                if collect:
                    result.ids.append(incident["id"])
    finally:
        sdk.close()
    result.warnings = [str(warning.message) for warning in caught]
    return result


class _Sink:
    """A file that counts what is written and keeps none of it."""

    def __init__(self):
        self.size = 0

    def write(self, text: str) -> int:
        self.size += len(text)
        return len(text)


def _summary(ref) -> str:
    return (ref.get("summary") or "") if isinstance(ref, dict) else ""


def sdk_row(incident: dict) -> list:
    """The columns ours writes, as a script using the SDK would fill them."""
    service = incident.get("service") or {}
    assignees = "; ".join(
        _summary(assignment.get("assignee"))
        for assignment in incident.get("assignments") or []
    )
    row = [
        incident.get("id"),
        incident.get("incident_number"),
        incident.get("title"),
        incident.get("status"),
        incident.get("urgency"),
        _summary(incident.get("priority")),
        service.get("id"),
        _summary(service),
        _summary(incident.get("escalation_policy")),
        assignees,
        incident.get("created_at"),
        incident.get("last_status_change_at"),
        incident.get("resolved_at") or "",
        incident.get("html_url"),
    ]
    # Same formula guard as ours, so both do the same work per cell.
    return [
        f"'{cell}" if isinstance(cell, str) and cell.startswith(FORMULA) else cell
        for cell in row
    ]


# --- The sandbox's own answers ---


def _api(sandbox: Sandbox, token: str, params: dict) -> dict:
    response = requests.get(
        f"{sandbox.url}/incidents",
        params=params,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()


def sandbox_count(
    sandbox: Sandbox, token: str, since: datetime | None, until: datetime | None
) -> int:
    """Return how many incidents the sandbox holds in [since, until).

    None for both counts every incident (`date_range=all`).
    """
    if since is None:
        return _api(sandbox, token, {"date_range": "all", "total": "true", "limit": 1})[
            "total"
        ]
    total = 0
    while since < until:
        end = min(since + SLICE, until)
        params = {"since": _stamp(since), "until": _stamp(end), "total": "true"}
        total += _api(sandbox, token, {**params, **ORDER, "limit": 1})["total"]
        since = end
    return total


def nth_newest(sandbox: Sandbox, token: str, n: int) -> datetime:
    """Return the created_at of the n-th newest incident (n ≤ 10,000)."""
    params = {
        "date_range": "all",
        "sort_by": "created_at:desc",
        "offset": n - 1,
        "limit": 1,
    }
    incident = _api(sandbox, token, params)["incidents"][0]
    return datetime.fromisoformat(incident["created_at"].replace("Z", "+00:00"))


def oldest(sandbox: Sandbox, token: str) -> datetime:
    params = {"date_range": "all", **ORDER, "limit": 1}
    incident = _api(sandbox, token, params)["incidents"][0]
    return datetime.fromisoformat(incident["created_at"].replace("Z", "+00:00"))


def form_window(since: date, until: date) -> tuple[datetime, datetime]:
    """The [since, until) the export form makes of two dates: whole UTC
    days, `until` inclusive, never past now."""
    start = datetime(since.year, since.month, since.day, tzinfo=UTC)
    end = datetime(until.year, until.month, until.day, tzinfo=UTC) + timedelta(1)
    return start, min(end, datetime.now(UTC).replace(microsecond=0))


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def cpu_seconds(pid: int | None = None) -> float | None:
    """Return the user + system CPU time of this process or of `pid`.

    None where /proc is missing (not Linux).
    """
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class PeakProbe:
    """Note the tracemalloc peak so far when the rows read pass each mark."""

    def __init__(self, marks):
        self.marks = sorted(marks)
        self.peaks: dict[int, int] = {}

    def __call__(self, rows: int) -> None:
        while self.marks and rows >= self.marks[0]:
            self.peaks[self.marks.pop(0)] = tracemalloc.get_traced_memory()[1]


def peak_memory(fn):
    """Return (fn(), the tracemalloc peak in bytes while it ran)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, peak


# --- The section ---


class _Rig:
    """A sandbox, a tenant connected to it, and per-run bookkeeping.

    `fresh()` resets the sandbox (see the module docstring), reconnects the
    tenant, mints the SDK's token and empties the request log; the log of
    the run before is filed under that run's label first.
    """

    def __init__(self, sandbox: Sandbox, *, slug: str, name: str):
        self.sandbox = sandbox
        self.slug, self.name = slug, name
        self.tenant: ConnectedTenant | None = None
        self.client = None
        self.token = self.counter = ""
        self.running: str | None = None
        self.traffic: dict[str, list[Traffic]] = {}
        # (this process, the sandbox process) CPU seconds per export.
        self.cpu: dict[str, list[tuple[float, float]]] = {}

    def fresh(self) -> None:
        self.collect()
        self.sandbox.reset()
        self.tenant = connect_tenant(self.sandbox, slug=self.slug, name=self.name)
        if self.client is None:
            self.client = self.tenant.client()
        self.token = self.sandbox.mint()["access_token"]
        # Another user's budget, so questions never spend the exports'.
        self.counter = self.sandbox.mint(COUNT_USER)["access_token"]
        self.sandbox.clear_log()

    def collect(self) -> None:
        if self.running is not None:
            traffic = Traffic.of(self.sandbox.requests_log())
            self.traffic.setdefault(self.running, []).append(traffic)
            self.running = None

    def ask(self, question, *args):
        """Ask the sandbox (e.g. `sandbox_count`) between runs, off the log."""
        answer = question(self.sandbox, self.counter, *args)
        self.sandbox.clear_log()
        return answer

    def ours(self, since: date, until: date, **options) -> Export:
        return self._run(
            "ours",
            lambda: export_ours(self.tenant, self.client, since, until, **options),
        )

    def sdk(self, params: dict, **options) -> Export:
        return self._run(
            "sdk", lambda: export_sdk(self.sandbox, self.token, params, **options)
        )

    def _run(self, label: str, export):
        self.running = label
        pid = self.sandbox.process.pid if self.sandbox.process else -1
        here, there = cpu_seconds(), cpu_seconds(pid)
        result = export()
        if there is not None:
            self.cpu.setdefault(label, []).append(
                (cpu_seconds() - here, cpu_seconds(pid) - there)
            )
        return result


def _concurrency() -> int:
    from django.conf import settings

    return settings.PAGERDUTY_EXPORT_CONCURRENCY


def run(ctx) -> None:
    from django.test import override_settings

    global _started
    _started = time.monotonic()
    # The portal allows 10 exports a minute per user; the benchmark runs
    # more than that, and that limit is not what is measured.
    with override_settings(PAGERDUTY_EXPORT_RATE_LIMIT=(1_000_000, 60)):
        try:
            _compare(ctx)
            _large(ctx)
        finally:
            # Leave the shared sandbox with full budgets for later sections.
            ctx.sandbox.reset()


_started = time.monotonic()


def _say(text: str) -> None:
    print(f"   export: {time.monotonic() - _started:4.0f} s: {text}", flush=True)


def _full_range(rig: _Rig) -> tuple[date, date]:
    return rig.ask(oldest).date() - timedelta(days=1), datetime.now(UTC).date()


def _compare(ctx) -> None:
    rig = _Rig(ctx.sandbox, slug="acme", name="Acme Corp")
    rig.fresh()
    since, until = _full_range(rig)
    expected = rig.ask(sandbox_count, *form_window(since, until))
    everything = rig.ask(sandbox_count, None, None)
    label = f"{everything:,}"
    # The range covers every incident; the SDK asks for that with
    # date_range=all (since/until may be at most 6 months apart, and the
    # SDK does not split a range). The id sets below prove the same rows.
    sdk_params = {"date_range": "all"}

    # One checked pair first (also the warm-up): both exported exactly the
    # sandbox's incidents, each once.
    rig.fresh()
    ours = rig.ours(since, until, collect=True)
    rig.fresh()
    sdk = rig.sdk(sdk_params, collect=True)
    rig.collect()
    same = set(ours.ids) == set(sdk.ids)
    unique = len(set(ours.ids)) == len(ours.ids)
    ours_rows, sdk_rows = [ours.rows], [sdk.rows]

    def timed_ours():
        ours_rows.append(rig.ours(since, until).rows)

    def timed_sdk():
        sdk_rows.append(rig.sdk(sdk_params).rows)

    pairs = min(ctx.repeat, SDK_PAIRS)
    _say(f"checked {label} rows both ways; timing {pairs} pairs")
    rig.cpu.clear()  # the checked pair parses its CSV; time only plain runs
    ratio, sdk_time, ours_time = paired_ratios(
        timed_sdk, timed_ours, pairs, before_each=rig.fresh
    )
    rig.collect()
    traffic = rig.traffic
    ours_429 = sum(t.limited for t in traffic["ours"])
    sdk_429 = sum(t.limited for t in traffic["sdk"])
    note = (
        f"{pairs} alternating pairs after a checked one; ours streams "
        f"{since}..{until} through the view with {_concurrency()} pages at "
        "once; the SDK runs iter_all(date_range=all) sequentially"
    )
    ctx.add(f"export {label}: ours", ours_time, unit="s", note=note)
    ctx.add(f"export {label}: SDK iter_all", sdk_time, unit="s")
    ctx.add(
        "SDK ÷ ours",
        ratio,
        unit="×",
        target="≥ 3",
        met=ratio.median >= 3,
        note="median of per-pair ratios",
    )
    ctx.add(
        f"export {label}: 429s seen (ours)",
        ours_429,
        target="0",
        met=ours_429 == 0,
        note=f"over {len(traffic['ours'])} exports, each on a fresh 960/min budget",
    )
    ctx.add(f"export {label}: 429s seen (SDK)", sdk_429)
    ctx.add(
        f"export {label}: rows (ours)",
        _one(ours_rows),
        target=f"= {expected:,} (sandbox)",
        met=set(ours_rows) == {expected} and same and unique,
        note="every run; the checked run's ids equal the SDK's, each once",
    )
    ctx.add(
        f"export {label}: rows (SDK)",
        _one(sdk_rows),
        target=f"= {everything:,} (sandbox)",
        met=set(sdk_rows) == {everything},
    )
    ctx.add(
        f"export {label}: upstream requests (ours)",
        Stats.of(t.requests for t in traffic["ours"]),
        note="planning counts (total=true) included",
    )
    ctx.add(
        f"export {label}: upstream requests (SDK)",
        Stats.of(t.requests for t in traffic["sdk"]),
    )
    _cpu_figures(ctx, rig, label)


def _cpu_figures(ctx, rig: _Rig, label: str) -> None:
    """CPU seconds per export on each side: an export whose wall time is
    close to one side's CPU is bound by that side, not by latency."""
    for who, name in (("ours", "ours"), ("sdk", "SDK")):
        runs = rig.cpu.get(who)
        if not runs:
            continue
        ctx.add(
            f"export {label}: portal CPU ({name})",
            Stats.of(here for here, _ in runs),
            unit="s",
            note="this process, all threads" if who == "ours" else "",
        )
        ctx.add(
            f"export {label}: sandbox CPU ({name})",
            Stats.of(there for _, there in runs),
            unit="s",
        )


def _one(values: list[int]):
    """One count when every run agrees, else the spread as text."""
    return values[0] if len(set(values)) == 1 else f"{min(values)}..{max(values)}"


def _large(ctx) -> None:
    incidents = 12_000 if ctx.quick else LARGE_INCIDENTS
    _say(f"seeding a second sandbox: {incidents:,} incidents")
    sandbox = Sandbox(
        incidents=incidents, services=ctx.services, latency_ms=ctx.latency_ms
    ).start()
    try:
        _large_on(ctx, sandbox)
    finally:
        sandbox.stop()


def _large_on(ctx, sandbox: Sandbox) -> None:
    ctx.sandbox.clear_log()
    rig = _Rig(sandbox, slug="globex", name="Globex")
    rig.fresh()
    connection = rig.tenant.connection
    # Same seed, same demo app credentials: the environment's one app
    # serves both sandboxes; the connection points at the second.
    if connection.api_url != sandbox.url or connection.oauth_client.tenant_id:
        raise RuntimeError("the second tenant is not connected to the second sandbox")
    since, until = _full_range(rig)
    expected = rig.ask(sandbox_count, *form_window(since, until))
    label = f"{sandbox.options['incidents']:,}"

    # Checked run: all incidents, each once.
    rig.fresh()
    checked = rig.ours(since, until, collect=True)
    complete = (
        checked.rows == expected
        and len(set(checked.ids)) == checked.rows
        and checked.declared == expected
    )
    rows, samples = [checked.rows], []
    for _ in range(1 if ctx.quick else LARGE_RUNS):
        rig.fresh()
        started = time.perf_counter()
        rows.append(rig.ours(since, until).rows)
        samples.append(time.perf_counter() - started)
    rig.collect()
    traffic = rig.traffic["ours"]
    limited = sum(t.limited for t in traffic)
    ctx.add(
        f"export {label}: rows (ours)",
        _one(rows),
        target=f"all {expected:,}",
        met=set(rows) == {expected} and complete,
        note=f"{since}..{until} ({(until - since).days} days, so at least "
        f"{math.ceil((until - since).days / 180)} windows); second sandbox, "
        "tenant Globex; the checked run's ids are distinct and X-Export-Total "
        "agrees",
    )
    ctx.add(f"export {label}: time (ours)", Stats.of(samples), unit="s")
    ctx.add(
        f"export {label}: 429s seen (ours)",
        limited,
        target="0",
        met=limited == 0,
        note=f"over {len(traffic)} exports, each on a fresh 960/min budget",
    )
    ctx.add(
        f"export {label}: upstream requests (ours)",
        Stats.of(t.requests for t in traffic),
    )

    # Peak memory while the whole range streams, noted after the first
    # 5,000 and 10,000 rows and at the end; the larger of two exports, as
    # the peak depends on how many fetched pages wait at that moment.
    marks = (5_000, OFFSET_CAP)
    _say(f"timed {len(samples)} exports of {label}; measuring memory")
    peaks: dict[int, int] = {}
    for _ in range(MEMORY_RUNS):
        rig.fresh()
        probe = PeakProbe(marks)
        export, peak = peak_memory(
            lambda probe=probe: rig.ours(since, until, progress=probe)
        )
        if export.rows != expected:
            raise RuntimeError(f"exported {export.rows} of {expected} rows")
        for rows, value in {**probe.peaks, export.rows: peak}.items():
            peaks[rows] = max(peaks.get(rows, 0), value)
    for rows, value in peaks.items():
        ctx.add(
            f"peak memory, {'first' if rows < expected else 'all'} {rows:,} rows",
            round(value / 1024),
            unit="KiB",
        )
    first, last = min(peaks), max(peaks)
    growth = peaks[last] / peaks[first]
    ctx.add(
        f"peak memory {last:,} ÷ {first:,} rows",
        growth,
        unit="×",
        target="≤ 1.5",
        met=growth <= 1.5,
        note=f"tracemalloc peak so far (all threads) while {MEMORY_RUNS} whole "
        "exports stream, rows counted and dropped; the larger of the runs",
    )

    _say("the SDK on the same sandbox")
    rig.fresh()
    sdk = rig.sdk({"date_range": "all"})
    rig.collect()
    stop = next((w for w in sdk.warnings if "Stopping iter_all" in w), "")
    ctx.add(
        f"export {label}: rows (SDK iter_all)",
        sdk.rows,
        note=f"of {expected:,}; " + (stop.split(" as ")[0] if stop else "no warning"),
    )
    shared = Traffic.of(ctx.sandbox.requests_log())
    if shared.requests:
        raise RuntimeError("the second tenant's export reached the first sandbox")
