"""Export a tenant's incidents as CSV, page by page, in parallel.

Plan (before the response starts, so failures get a normal error page):
split [since, until) into windows of at most PagerDuty's 6 months, ask each
window's total (`total=true`, `limit=1`) and halve any window whose total
passes the 10,000-result offset cap, recursively.

Fetch: pages of 100 through a bounded thread pool. At most
2 × concurrency pages are requested or buffered at any time, so memory does
not grow with the export, and rows leave in a stable order (windows in time
order, pages in offset order). The workers share one request budget read
from `ratelimit-remaining` / `ratelimit-reset`: when it runs out they wait
for the reset instead of collecting 429s; a 429 that still comes is slept
out by the client (a background client, on the connection's shared
cooldown, at most 3 times). Worker threads only talk HTTP; a
401 goes back to the request thread, which refreshes the token once through
the workspace (`Workspace.refresh_after_401`) and sends the page again.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from integrations.exceptions import (
    PagerDutyAuthError,
    PagerDutyError,
)
from integrations.pagerduty.client import (
    DEFAULT_RETRY_AFTER,
    MAX_PAGE_SIZE,
    OFFSET_CAP,
    PagerDutyClient,
    RateLimit,
)
from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import inputs
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.operations import operation
from integrations.pagerduty.workspace.selectors.common import MAX_FILTER_IDS
from integrations.services.tokens import connection_client

logger = logging.getLogger(__name__)

PATH = "/incidents"
# PagerDuty: "Maximum range is 6 months"; 180 days stays inside any 6 months.
MAX_WINDOW = timedelta(days=180)
MIN_SPLIT = timedelta(seconds=1)
PAGE_SIZE = MAX_PAGE_SIZE
INCOMPLETE_MARKER = "# export incomplete"
CSV_COLUMNS = (
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
# Spreadsheets run cells that start with these as formulas (OWASP "CSV
# injection"); a leading apostrophe makes them text.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class ExportTooDense(PagerDutyError):
    """A single second holds more incidents than PagerDuty lists for a query."""


class ExportIncomplete(Exception):
    """The export stopped after the response started; the file is partial."""


@dataclass(frozen=True)
class ExportWindow:
    """A slice of the range small enough for one offset-paginated query."""

    since: datetime
    until: datetime
    total: int

    @property
    def pages(self) -> int:
        return math.ceil(self.total / PAGE_SIZE)


@dataclass(frozen=True)
class ExportFilters:
    """Which incidents of the range to export (none set: every incident).

    The incident list's filters, so Export CSV takes what the list shows.
    """

    statuses: tuple[str, ...] = ()
    urgency: str = ""
    service_ids: tuple[str, ...] = ()
    team_ids: tuple[str, ...] = ()
    user_ids: tuple[str, ...] = ()

    def __post_init__(self):
        for status in self.statuses:
            inputs.choice(status, "statuses", inputs.INCIDENT_STATUSES)
        if self.urgency:
            inputs.choice(self.urgency, "urgency", inputs.URGENCIES)
        for name in ("service_ids", "team_ids", "user_ids"):
            values = getattr(self, name)
            if not isinstance(values, tuple) or len(values) > MAX_FILTER_IDS:
                raise inputs.InvalidInput(name, _("Give at most 25 IDs."))
            for value in values:
                inputs.pd_id(value, name)

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for key, values in (
            ("statuses[]", self.statuses),
            ("service_ids[]", self.service_ids),
            ("team_ids[]", self.team_ids),
            ("user_ids[]", self.user_ids),
        ):
            if values:
                params[key] = list(values)
        if self.urgency:
            params["urgencies[]"] = [self.urgency]
        return params


NO_FILTERS = ExportFilters()


@dataclass(frozen=True)
class ExportPlan:
    """The windows of an export, in time order, and what they hold."""

    since: datetime
    until: datetime
    windows: tuple[ExportWindow, ...]
    filters: ExportFilters = NO_FILTERS

    @property
    def total(self) -> int:
        return sum(window.total for window in self.windows)

    @property
    def pages(self) -> int:
        return sum(window.pages for window in self.windows)


def export_concurrency() -> int:
    """Return how many pages an export requests at once."""
    return max(1, settings.PAGERDUTY_EXPORT_CONCURRENCY)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _params(
    since: datetime, until: datetime, filters: ExportFilters = NO_FILTERS
) -> dict[str, Any]:
    # sort_by makes offsets stable; time_zone makes since/until and the
    # timestamps in the file UTC whatever the account's zone.
    return {
        **filters.params(),
        "since": _stamp(since),
        "until": _stamp(until),
        "sort_by": "created_at:asc",
        "time_zone": "UTC",
    }


@operation(scope=Scope.INCIDENTS_READ)
def export_plan(
    *,
    ws: Workspace,
    since: datetime,
    until: datetime,
    filters: ExportFilters = NO_FILTERS,
) -> ExportPlan:
    """Return the windows to fetch, each holding at most 10,000 incidents.

    Costs one request per window (more where a window is split). Raises
    ExportTooDense when one second holds more than 10,000 incidents, and
    the client's PagerDutyError subclasses when PagerDuty refuses.
    """
    since = inputs.aware(since, "since")
    until = inputs.aware(until, "until")
    if since >= until:
        raise inputs.InvalidInput("until", _("“From” must be before “Until”."))
    if not isinstance(filters, ExportFilters):
        raise inputs.InvalidInput("filters", _("Give the export's filters."))
    windows: list[ExportWindow] = []
    start = since
    while start < until:
        end = min(start + MAX_WINDOW, until)
        total = _count(ws, start, end, filters)
        windows.extend(_split(ws, start, end, total, filters))
        start = end
    return ExportPlan(since=since, until=until, windows=tuple(windows), filters=filters)


def _count(
    ws: Workspace, since: datetime, until: datetime, filters: ExportFilters
) -> int:
    page = ws.client.list_page(
        PATH,
        key="incidents",
        params=_params(since, until, filters),
        limit=1,
        total=True,
        required_scope=Scope.INCIDENTS_READ,
    )
    if page.total is None:
        raise PagerDutyError(_("PagerDuty did not say how many incidents match."))
    return page.total


def _split(
    ws: Workspace,
    since: datetime,
    until: datetime,
    total: int,
    filters: ExportFilters,
) -> list[ExportWindow]:
    if total <= OFFSET_CAP:
        return [ExportWindow(since, until, total)] if total else []
    if until - since <= MIN_SPLIT:
        raise ExportTooDense(
            _(
                "More than %(cap)s incidents were created in the second "
                "starting %(moment)s; PagerDuty cannot list them all."
            )
            % {"cap": f"{OFFSET_CAP:,}", "moment": _stamp(since)},
            status=400,
        )
    middle = since + (until - since) / 2
    middle = middle.replace(microsecond=0)
    if middle <= since:
        middle = since + MIN_SPLIT
    first = _count(ws, since, middle, filters)
    return [
        *_split(ws, since, middle, first, filters),
        *_split(ws, middle, until, total - first, filters),
    ]


class RequestBudget:
    """Share PagerDuty's rate limit between an export's workers.

    `acquire()` blocks while `concurrency` requests are in flight or while
    the budget announced by `ratelimit-remaining` is spent, until
    `ratelimit-reset` passes. The estimate is conservative: requests still
    in flight may not be counted in the header yet.
    """

    def __init__(
        self, concurrency: int, *, clock: Callable[[], float] = time.monotonic
    ):
        self.concurrency = concurrency
        self.clock = clock
        self.in_flight = 0
        self.max_in_flight = 0
        self.waits = 0
        self.remaining: int | None = None
        self.reset_at: float | None = None
        self.per_window: int | None = None  # ratelimit-limit, once known
        self.closed = False
        self._condition = threading.Condition()

    def acquire(self) -> None:
        """Wait for a slot and budget; raise ExportIncomplete once closed."""
        with self._condition:
            waited = False
            while True:
                if self.closed:
                    raise ExportIncomplete("the export was stopped")
                now = self.clock()
                if self.reset_at is not None and now >= self.reset_at:
                    # A fresh window holds `ratelimit-limit` calls, not
                    # `concurrency` at once when the limit is smaller.
                    self.reset_at = None
                    self.remaining = (
                        None
                        if self.per_window is None
                        else self.per_window - self.in_flight
                    )
                spent = self.remaining is not None and self.remaining <= 0
                if spent and self.reset_at is None and self.in_flight == 0:
                    spent = False  # nothing will report: probe with one call
                if self.in_flight < self.concurrency and not spent:
                    break
                if spent and not waited:
                    waited = True
                    self.waits += 1
                timeout = None if self.reset_at is None else self.reset_at - now
                self._condition.wait(timeout)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            if self.remaining is not None:
                self.remaining -= 1

    def release(self, rate_limit: RateLimit | None) -> None:
        with self._condition:
            self.in_flight -= 1
            self._observe(rate_limit)
            self._condition.notify_all()

    def observe(self, rate_limit: RateLimit | None) -> None:
        """Take in the headers of a response sent outside the pool."""
        with self._condition:
            self._observe(rate_limit)

    def close(self) -> None:
        """Turn away every waiting and future request."""
        with self._condition:
            self.closed = True
            self._condition.notify_all()

    def _observe(self, rate_limit: RateLimit | None) -> None:
        if rate_limit is None or rate_limit.remaining is None:
            return
        if rate_limit.limit is not None:
            self.per_window = rate_limit.limit
        now = self.clock()
        reset = DEFAULT_RETRY_AFTER if rate_limit.reset is None else rate_limit.reset
        reset_at = now + reset
        estimate = rate_limit.remaining - self.in_flight
        # A reset further out than the one known means a new budget window;
        # within a window, answers may arrive out of order, so keep the lower.
        if self.reset_at is None or reset_at > self.reset_at + 1:
            self.remaining, self.reset_at = estimate, reset_at
        else:
            self.remaining = (
                estimate if self.remaining is None else min(estimate, self.remaining)
            )


class _TokenBox:
    """The access token the workers send; only the request thread changes it."""

    def __init__(self, token: str):
        self._lock = threading.Lock()
        self.token = token
        self.generation = 0

    def get(self) -> str:
        with self._lock:
            return self.token

    def replace(self, token: str) -> None:
        with self._lock:
            self.token = token
            self.generation += 1


@dataclass
class _Task:
    window: int
    offset: int
    last_planned: bool


def export_incidents(
    *,
    ws: Workspace,
    plan: ExportPlan,
    concurrency: int | None = None,
    budget: RequestBudget | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Yield the plan's incidents page by page, in time and offset order.

    Pages are fetched by `concurrency` threads (default
    PAGERDUTY_EXPORT_CONCURRENCY). Raises a PagerDutyError subclass when a
    page cannot be fetched; callers streaming a response must then mark
    the output incomplete.
    """
    concurrency = concurrency or export_concurrency()
    budget = budget or RequestBudget(concurrency)
    budget.observe(ws.client.rate_limit)
    connection = ws.read_connection
    box = _TokenBox(ws.client.token_provider())
    local = threading.local()
    clients: list[PagerDutyClient] = []
    clients_lock = threading.Lock()

    def client() -> PagerDutyClient:
        if getattr(local, "client", None) is None:
            # Each worker its own client (they are not thread-safe); no
            # on_unauthorized, because refreshing needs the database. A
            # background client sleeps out a 429 on the connection's shared
            # cooldown, which holds the other workers back too.
            local.client = connection_client(
                connection=connection, token_provider=box.get, background=True
            )
            with clients_lock:
                clients.append(local.client)
        return local.client

    def fetch(task: _Task) -> tuple[list[dict[str, Any]], bool]:
        window = plan.windows[task.window]
        worker = client()
        budget.acquire()
        try:
            page = worker.list_page(
                PATH,
                key="incidents",
                params=_params(window.since, window.until, plan.filters),
                offset=task.offset,
                limit=PAGE_SIZE,
                required_scope=Scope.INCIDENTS_READ,
            )
        finally:
            budget.release(worker.rate_limit)
        return page.items, page.more

    def planned() -> Iterator[_Task]:
        for index, window in enumerate(plan.windows):
            for page in range(window.pages):
                yield _Task(index, page * PAGE_SIZE, page == window.pages - 1)

    tasks = planned()
    pending: deque[tuple[_Task, Future, int]] = deque()
    executor = ThreadPoolExecutor(
        max_workers=concurrency, thread_name_prefix="pd-export"
    )

    def submit(task: _Task, *, first: bool = False) -> None:
        entry = (task, executor.submit(fetch, task), box.generation)
        if first:
            pending.appendleft(entry)
        else:
            pending.append(entry)

    def refill() -> None:
        while len(pending) < 2 * concurrency:
            task = next(tasks, None)
            if task is None:
                return
            submit(task)

    previous_tail: set[str] = set()
    current_window = -1
    try:
        refill()
        while pending:
            task, future, generation = pending.popleft()
            try:
                items, more = future.result()
            except PagerDutyAuthError as exc:
                if exc.status != 401:
                    raise
                _after_401(ws, box, generation)
                submit(task, first=True)
                continue
            if task.window != current_window:
                # A window's `since` equals the previous `until`: an
                # incident there must not appear twice if PagerDuty's
                # `until` turns out inclusive.
                current_window = task.window
                items = [i for i in items if i.get("id") not in previous_tail]
            if task.last_planned and more and task.offset + 2 * PAGE_SIZE <= OFFSET_CAP:
                # Incidents appeared after planning: read on, in order.
                submit(_Task(task.window, task.offset + PAGE_SIZE, True), first=True)
            elif task.last_planned:
                previous_tail = {i.get("id") for i in items}
            refill()
            yield items
    finally:
        budget.close()
        executor.shutdown(wait=True, cancel_futures=True)
        for worker in clients:
            worker.close()


def _after_401(ws: Workspace, box: _TokenBox, generation: int) -> None:
    """Refresh the token once for the whole export, or give up."""
    if generation < box.generation:
        return  # sent with a token that was replaced since
    if not ws.refresh_after_401():
        raise PagerDutyAuthError(
            _("PagerDuty rejected the connection's token; reconnect PagerDuty."),
            status=401,
        )
    box.replace(ws.read_connection.access_token)


def csv_safe(value: Any) -> str:
    """Return a cell value that spreadsheets will not run as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


def _summary(ref: Any) -> str:
    return ref.get("summary") or "" if isinstance(ref, dict) else ""


def incident_csv_row(incident: dict[str, Any]) -> list[str]:
    """Return an incident's cells in CSV_COLUMNS order, formula-safe."""
    service = incident.get("service") or {}
    assignees = [
        _summary(assignment.get("assignee"))
        for assignment in incident.get("assignments") or []
        if isinstance(assignment, dict)
    ]
    status = incident.get("status")
    resolved_at = incident.get("resolved_at") or (
        incident.get("last_status_change_at") if status == "resolved" else ""
    )
    values = (
        incident.get("id"),
        incident.get("incident_number"),
        incident.get("title"),
        status,
        incident.get("urgency"),
        _summary(incident.get("priority")),
        service.get("id") if isinstance(service, dict) else "",
        _summary(service),
        _summary(incident.get("escalation_policy")),
        "; ".join(name for name in assignees if name),
        incident.get("created_at"),
        incident.get("last_status_change_at"),
        resolved_at,
        incident.get("html_url"),
    )
    return [csv_safe(value) for value in values]


def export_csv(
    *,
    ws: Workspace,
    plan: ExportPlan,
    concurrency: int | None = None,
    budget: RequestBudget | None = None,
) -> Iterator[str]:
    """Yield the CSV text of an export: a header, then one chunk per page.

    If a page cannot be fetched, the last line is INCOMPLETE_MARKER with
    the reason and ExportIncomplete is raised, so a streamed response is
    cut off rather than ending like a complete file.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield _drain(buffer)
    rows = 0
    try:
        for items in export_incidents(
            ws=ws, plan=plan, concurrency=concurrency, budget=budget
        ):
            writer.writerows(incident_csv_row(incident) for incident in items)
            rows += len(items)
            yield _drain(buffer)
    except Exception as exc:
        # Whatever stopped it, the file must not end like a complete one.
        logger.warning(
            "Incident export of tenant %s stopped after %s rows: %s",
            ws.tenant.pk,
            rows,
            type(exc).__name__,
        )
        reason = (
            exc.message
            if isinstance(exc, PagerDutyError)
            else _("the export failed unexpectedly")
        )
        yield _drain(buffer) + f"{INCOMPLETE_MARKER}: {csv_safe(reason)}\r\n"
        raise ExportIncomplete(reason) from exc
    logger.info("Incident export of tenant %s sent %s rows", ws.tenant.pk, rows)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
