"""Throughput, slow upstream and the refresh storm against gunicorn (issue 8).

Three deployments, each gunicorn with 2 workers on the benchmark's database
and cache: today's WSGI one (gthread, 4 threads a worker), the ASGI entry
point as production runs it (uvicorn workers, `/mcp` in the event loop,
pages in a pool of 4 threads a worker: `portal.serving`), and the same with
Django's own ASGI handler for the pages, the alternative it was chosen
over. Each gets the same page runs; the slow-upstream case requests a page
that waits 200 ms on PagerDuty from more connections than there are
threads; the ASGI figures are also given as ratios to the gthread ones of
the same run. Throughput is requests per second from
`bench.load` (a fixed number of keep-alive connections for a fixed time, in
its own process); each page's rate is divided by the rate of the trivial
view requested with the page's own session cookie in the same repetition
(the session-less trivial view is kept as context). The storm sends 50
simultaneous requests for a cold workspace page of a tenant whose access
token has just expired, both in the portal's database and at the sandbox.
"""

import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import requests

from bench.common import (
    ROOT,
    Stats,
    connect_tenant,
    count_upstream,
    free_port,
    wait_for,
)
from bench.load import (
    WORKER_HEADER,
    BurstResponse,
    burst,
    percentile,
    run_generator,
)

WORKERS = 2
# gthread, not sync: sync workers serve one request at a time and close
# every connection, so a storm could never have requests in flight in both
# processes at once, and keep-alive clients would measure TCP setup.
THREADS = 4
CONNECTIONS = 8  # one per worker thread: saturated, with no queue to wait in
STORM_REQUESTS = 50
TRIVIAL_PATH = "/bench/trivial/"
RECONNECT_MARK = b'id="reconnect-banner"'
STAFF_PASSWORD = "bench-staff-password"  # noqa: S105 - throwaway database
# The slow-upstream case: a page waiting this long on PagerDuty, requested
# from twice as many connections as the deployment has page threads.
SLOW_UPSTREAM_MS = 200
SLOW_CONNECTIONS = 2 * WORKERS * THREADS


@dataclass(frozen=True)
class Deployment:
    prefix: str
    app: str
    worker_class: str
    storm: bool
    note: str
    env: tuple[tuple[str, str], ...] = ()


DEPLOYMENTS = (
    Deployment(
        "",
        "bench.wsgi:application",
        "gthread",
        True,
        "WSGI: gthread keeps connections alive and serves requests "
        "concurrently in both processes (sync workers cannot)",
    ),
    Deployment(
        "ASGI: ",
        "bench.asgi:application",
        "uvicorn_worker.UvicornWorker",
        True,
        "the ASGI entry point as production runs it (portal.serving): /mcp in "
        "the event loop, pages in Django's WSGI app in a thread pool",
    ),
    Deployment(
        "ASGI, Django handler: ",
        "bench.asgi:django_asgi_application",
        "uvicorn_worker.UvicornWorker",
        False,
        "the alternative: pages through Django's own ASGI handler, which "
        "runs each request in a thread of its own, so database connections "
        "cannot be kept (DATABASE_CONN_MAX_AGE=0, as Django requires there)",
        (("DATABASE_CONN_MAX_AGE", "0"),),
    ),
)


class _Prefixed:
    """The run's context, naming every figure after one deployment."""

    def __init__(self, ctx, prefix: str):
        self._ctx, self._prefix = ctx, prefix

    def __getattr__(self, name):
        return getattr(self._ctx, name)

    def add(self, name: str, value, **details):
        return self._ctx.add(f"{self._prefix}{name}", value, **details)


class Gunicorn:
    """gunicorn serving `app` (the portal by default) in its own process group.

    `worker_class` "gthread" runs `threads` threads a worker; an ASGI worker
    class gets PORTAL_THREADS=`threads` for the pages' thread pool instead.
    """

    def __init__(
        self,
        *,
        app: str = "bench.wsgi:application",
        workers: int = WORKERS,
        threads: int = THREADS,
        worker_class: str = "gthread",
        env: dict[str, str] | None = None,
        log_path: Path = ROOT / "var" / "bench-gunicorn.log",
        port: int | None = None,
    ):
        self.app, self.workers, self.threads = app, workers, threads
        self.worker_class = worker_class
        self.env = env or {}
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    @property
    def description(self) -> str:
        if self.worker_class == "gthread":
            return f"{self.workers} gthread workers × {self.threads} threads"
        return (
            f"{self.workers} uvicorn workers, pages in {self.threads} threads a worker"
        )

    def __enter__(self) -> "Gunicorn":
        self.log_path.parent.mkdir(exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            self.app,
            f"--bind=127.0.0.1:{self.port}",
            f"--workers={self.workers}",
            f"--worker-class={self.worker_class}",
            f"--threads={self.threads}",
            "--keep-alive=5",
            "--timeout=60",
            "--graceful-timeout=5",
            "--log-level=warning",
        ]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own command
                command,
                cwd=ROOT,
                env={
                    **os.environ,
                    "PORTAL_THREADS": str(self.threads),
                    **self.env,
                },
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_for_workers()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def worker_pids(self) -> list[int]:
        """Return the master's child processes (Linux /proc; else empty)."""
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == self.process.pid:
                pids.append(int(stat.parent.name))
        return sorted(pids)

    def cpu_seconds(self) -> float | None:
        """Return the CPU time the workers used so far, or None off Linux."""
        total, ticks = 0.0, os.sysconf("SC_CLK_TCK")
        pids = self.worker_pids()
        if not pids:
            return None
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1]
            except OSError:
                return None
            utime, stime = fields.split()[11:13]
            total += (int(utime) + int(stime)) / ticks
        return total

    def _wait_for_workers(self, timeout: float = 90) -> None:
        """Wait until every worker has answered (its first request imports)."""
        deadline = time.monotonic() + timeout
        seen = set()
        with requests.Session() as session:
            while len(seen) < self.workers:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(
                        f"gunicorn workers did not start:\n{self.log_tail()}"
                    )
                try:
                    response = session.get(
                        f"{self.url}{TRIVIAL_PATH}",
                        timeout=30,
                        headers={"Connection": "close"},
                    )
                except requests.RequestException:
                    time.sleep(0.1)
                    continue
                seen.add(response.headers.get(WORKER_HEADER))


@dataclass
class Run:
    """One page's load run: the generator's result and the server's CPU."""

    rate: float
    requests: int
    errors: int
    statuses: dict
    server_cpu_per_request: float | None
    generator_cpu_per_request: float
    upstream: int = 0
    workers: dict = field(default_factory=dict)


def load_run(
    server: Gunicorn,
    path: str,
    *,
    headers=(),
    seconds,
    warmup,
    connections: int = CONNECTIONS,
) -> Run:
    before = server.cpu_seconds()
    result = run_generator(
        port=server.port,
        path=path,
        headers=headers,
        connections=connections,
        seconds=seconds,
        warmup=warmup,
        worker_header=WORKER_HEADER,
        workers=server.workers,
        probe_path=TRIVIAL_PATH,
    )
    after = server.cpu_seconds()
    completed = max(result.completed, 1)
    return Run(
        rate=result.rate,
        requests=result.requests,
        errors=result.errors,
        statuses=result.statuses,
        server_cpu_per_request=(
            (after - before) / completed
            if before is not None and after is not None
            else None
        ),
        generator_cpu_per_request=result.cpu_seconds / completed,
        workers=result.workers,
    )


@dataclass
class StormResult:
    refreshes: int
    errors: int
    p50: float
    p95: float
    max: float
    workers: int
    upstream_reads: int
    statuses: dict


def storm_summary(responses: list[BurstResponse], log: list[dict]) -> StormResult:
    """Count what one storm did from its answers and the sandbox's log.

    A refresh is any POST to the token endpoint (nothing else asks for
    tokens during a storm). An error is a missing or non-200 answer, or a
    page that asks for a reconnect.
    """
    seconds = [response.seconds for response in responses]
    statuses: dict[str, int] = {}
    for response in responses:
        statuses[str(response.status)] = statuses.get(str(response.status), 0) + 1
    return StormResult(
        refreshes=count_upstream(log, prefix="/oauth/token", method="POST"),
        errors=sum(
            response.status != 200 or RECONNECT_MARK in response.body
            for response in responses
        ),
        p50=percentile(seconds, 50),
        p95=percentile(seconds, 95),
        max=max(seconds),
        workers=len({r.worker for r in responses if r.worker}),
        upstream_reads=count_upstream(log, method="GET"),
        statuses=statuses,
    )


def run(ctx) -> None:
    from django.db import connection as db_connection
    from django.urls import reverse

    repeat = min(ctx.repeat, 2) if ctx.quick else ctx.repeat
    seconds, warmup = (1.0, 0.2) if ctx.quick else (2.0, 0.3)
    shared_cache = ctx.cache.startswith("Redis")
    caveats = []
    if db_connection.vendor != "postgresql":
        caveats.append(
            f"database is {db_connection.vendor}, not PostgreSQL as the issue "
            "asks; its row locks are what keep the storm to one refresh"
        )
    if not shared_cache:
        caveats.append(
            "no Redis: each worker has its own cache, so the first cached-page "
            "request in each worker goes upstream and storms use ?refresh=1"
        )
    tenant = connect_tenant(ctx.sandbox)
    storm_tenant = connect_tenant(ctx.sandbox, slug="storm", name="Storm Inc")
    # Its own PagerDuty user: the slow case's calls would otherwise spend
    # the budget the storms then need.
    slow_tenant = connect_tenant(
        ctx.sandbox, slug="slow", name="Slow Inc", user_email="carol@acme.example"
    )
    staff_path = reverse(
        "integrations:pagerduty_config", args=[tenant.tenant.environment.slug]
    )
    staff_cookie, staff_how = _staff_session(staff_path)
    with ExitStack() as stack:
        servers = {
            deployment.prefix: stack.enter_context(_serving(deployment))
            for deployment in DEPLOYMENTS
        }
        for deployment in DEPLOYMENTS:
            server = servers[deployment.prefix]
            _Prefixed(ctx, deployment.prefix).add(
                "deployment",
                f"{server.description}, {CONNECTIONS} keep-alive connections",
                note="; ".join([deployment.note, *caveats]),
            )
        pages = _throughput(
            ctx,
            servers,
            tenant,
            staff=(staff_path, staff_cookie, staff_how),
            repeat=repeat,
            seconds=seconds,
            warmup=warmup,
        )
        slow = _slow_upstream(
            ctx, servers, slow_tenant, repeat=repeat, seconds=seconds, warmup=warmup
        )
        # Storms last: one moves the sandbox's clock past the access tokens'
        # lifetime, after which the sandbox ends the grants of every tenant
        # connected as the same user.
        for deployment in DEPLOYMENTS:
            if deployment.storm:
                _storm(
                    _Prefixed(ctx, deployment.prefix),
                    servers[deployment.prefix],
                    storm_tenant,
                    repeat,
                    shared_cache=shared_cache,
                )
        _compare(ctx, pages, slow)
    for figure in ctx.figures:
        if caveats and figure.section == ctx.current_section and figure.target:
            figure.note = "; ".join(filter(None, [figure.note, *caveats]))


@contextmanager
def _serving(deployment: Deployment):
    slug = deployment.prefix.strip(": ").replace(", ", "-").replace(" ", "-").lower()
    with Gunicorn(
        app=deployment.app,
        worker_class=deployment.worker_class,
        env=dict(deployment.env),
        log_path=ROOT / "var" / f"bench-gunicorn-{slug or 'gthread'}.log",
    ) as server:
        yield server
    if server.process.returncode not in (0, -signal.SIGTERM):
        print(f"gunicorn exited with {server.process.returncode}:\n{server.log_tail()}")


def _staff_session(staff_path: str) -> tuple[tuple[str, str], str]:
    """Sign a staff user in the way a person would; return the cookie and how.

    With PORTAL_REQUIRE_STAFF_MFA the staff pages need a second factor
    verified in the session, so the user gets a TOTP authenticator and signs
    in with the password and then a current code (allauth's real forms).
    """
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    user, _ = get_user_model().objects.get_or_create(username="bench-staff")
    user.is_staff = True
    user.set_password(STAFF_PASSWORD)
    user.save()
    client = Client()
    if "allauth.mfa" in settings.INSTALLED_APPS and getattr(
        settings, "PORTAL_REQUIRE_STAFF_MFA", False
    ):
        from allauth.mfa.models import Authenticator
        from allauth.mfa.totp.internal import auth as totp

        Authenticator.objects.filter(user=user).delete()
        secret = totp.generate_totp_secret()
        totp.TOTP.activate(user, secret)
        login = client.post(
            reverse("account_login"),
            {"login": user.username, "password": STAFF_PASSWORD},
        )
        if login.status_code != 302 or login["Location"] != reverse("mfa_authenticate"):
            raise RuntimeError(f"staff sign-in answered {login.status_code}")
        code = totp.format_hotp_value(
            totp.hotp_value(secret, next(iter(_current_counter())))
        )
        second = client.post(reverse("mfa_authenticate"), {"code": code})
        if second.status_code != 302:
            raise RuntimeError(f"staff TOTP step answered {second.status_code}")
        how = "staff signed in with password + TOTP code (allauth.mfa)"
    else:
        client.force_login(user)
        how = "staff session without MFA (PORTAL_REQUIRE_STAFF_MFA off)"
    page = client.get(staff_path)
    if page.status_code != 200:
        raise RuntimeError(f"{staff_path} answered {page.status_code} in-process")
    name = settings.SESSION_COOKIE_NAME
    return (name, client.cookies[name].value), how


def _current_counter():
    from allauth.mfa import app_settings

    return [int(time.time()) // app_settings.TOTP_PERIOD]


def _cookie(name_value: tuple[str, str]) -> str:
    return f"Cookie: {name_value[0]}={name_value[1]}"


def _throughput(ctx, servers, tenant, *, staff, repeat, seconds, warmup) -> dict:
    """Run every page against every deployment, interleaved per repetition.

    Interleaving keeps the deployments' runs of one repetition seconds
    apart, so a busy neighbour on a shared machine slows them alike.
    """
    sandbox = ctx.sandbox
    staff_path, staff_cookie, staff_how = staff
    incidents_path = tenant.path("incident_list")
    member = (_cookie(tenant.session_cookie()),)
    staff = (_cookie(staff_cookie),)
    pages = {
        "trivial": (TRIVIAL_PATH, ()),
        "trivial, signed in": (TRIVIAL_PATH, member),
        "trivial, staff signed in": (TRIVIAL_PATH, staff),
        "integrations": (staff_path, staff),
        "incidents": (incidents_path, member),
    }
    # Untimed: imports, templates and connections in both workers.
    for server in servers.values():
        for path, headers in pages.values():
            _warm(server, path, headers)
            load_run(server, path, headers=headers, seconds=0.5, warmup=0)
    ceiling = _generator_ceiling(min(repeat, 3), seconds, warmup)
    runs = {prefix: {name: [] for name in pages} for prefix in servers}
    for _ in range(repeat):
        for name, (path, headers) in pages.items():
            for prefix, server in servers.items():
                if name == "incidents":
                    # ?refresh=1 re-fetches and re-stores the page, so its
                    # PAGERDUTY_CACHE_SECONDS start now and outlast the run.
                    _warm(server, f"{path}?refresh=1", headers)
                    sandbox.clear_log()
                result = load_run(
                    server, path, headers=headers, seconds=seconds, warmup=warmup
                )
                if name == "incidents":
                    result.upstream = count_upstream(sandbox.requests_log())
                runs[prefix][name].append(result)
    for prefix, server in servers.items():
        _report_throughput(
            _Prefixed(ctx, prefix),
            server,
            runs[prefix],
            pages=pages,
            ceiling=ceiling,
            staff_path=staff_path,
            staff_how=staff_how,
        )
    return runs


def _report_throughput(ctx, server, runs, *, pages, ceiling, staff_path, staff_how):
    def rates(name):
        return Stats.of(r.rate for r in runs[name])

    def ratios(name, base="trivial"):
        pairs = zip(runs[name], runs[base], strict=True)
        return Stats.of(page.rate / below.rate for page, below in pairs)

    trivial_rate = rates("trivial")
    gen_cpu = Stats.of(r.generator_cpu_per_request for r in runs["trivial"]).median
    # The targets divide by the trivial view requested with the same
    # signed-in cookie: same client, same middleware, only the view differs
    # (the lead's reading of issue 8). Without a session the trivial view
    # skips the session and user loads every portal page needs.
    for name, base, label, target in (
        (
            "integrations",
            "trivial, staff signed in",
            "staff integrations page ÷ signed-in trivial",
            0.5,
        ),
        (
            "incidents",
            "trivial, signed in",
            "cached incidents page ÷ signed-in trivial",
            0.3,
        ),
    ):
        ratio = ratios(name, base)
        ctx.add(
            label,
            ratio,
            target=f"≥ {target}",
            met=ratio.median >= target,
            note="per-repetition ratio of requests per second; the baseline "
            "is the trivial view with the page's own session cookie, so both "
            "load a session and a user and differ only in the view",
        )
    for name, label in (
        ("integrations", "staff integrations page ÷ trivial"),
        ("incidents", "cached incidents page ÷ trivial"),
    ):
        ctx.add(
            label,
            ratios(name),
            note="context: the trivial view answered without a session, as "
            "Django alone would; not the baseline, since every portal page "
            "loads a session and a user",
        )
    ctx.add("trivial view", trivial_rate, unit="req/s", note="no session cookie")
    ctx.add(
        "trivial view, signed in",
        rates("trivial, signed in"),
        unit="req/s",
        note="member's session cookie: loads the session and the user",
    )
    ctx.add(
        "trivial view, staff signed in",
        rates("trivial, staff signed in"),
        unit="req/s",
        note="the staff page's session cookie",
    )
    ctx.add(
        "staff integrations page",
        rates("integrations"),
        unit="req/s",
        note=f"{staff_path}; {staff_how}",
    )
    ctx.add("cached incidents page", rates("incidents"), unit="req/s")
    ctx.add(
        "load generator ceiling (static ok)",
        ceiling,
        unit="req/s",
        note=(
            "same generator and connections against a one-line server; during "
            f"the trivial runs the generator used {gen_cpu * trivial_rate.median:.0%}"
            " of one core"
        ),
    )
    for name in pages:
        cpu = [r.server_cpu_per_request for r in runs[name]]
        if None not in cpu:
            ctx.add(
                f"worker CPU per request: {name}",
                Stats.of(cpu).scaled(1000),
                unit="ms",
                note="gunicorn workers' CPU time ÷ answers (not the database's)"
                if name == "trivial"
                else "",
            )
    errors = sum(r.errors for name in pages for r in runs[name])
    statuses = {
        name: _merge(r.statuses for r in runs[name])
        for name in pages
        if any(r.errors for r in runs[name])
    }
    ctx.add(
        "non-200 answers under load",
        errors,
        target="0",
        met=errors == 0,
        note=f"statuses: {statuses}" if statuses else "",
    )
    upstream = Stats.of(r.upstream for r in runs["incidents"])
    ctx.add(
        "upstream calls during cached-page load",
        upstream,
        target="0",
        met=upstream.max == 0,
        note="sandbox log of each incidents run",
    )
    all_runs = [r for name in pages for r in runs[name]]
    odd = sum(len(r.workers) != server.workers for r in all_runs)
    shares = [
        min(r.workers.values()) / sum(r.workers.values())
        if len(r.workers) == server.workers
        else 0.0
        for r in all_runs
    ]
    ctx.add(
        "least-busy worker's share of a run",
        Stats.of(shares),
        target=f"> 0 (even: {1 / server.workers:.2g})",
        met=min(shares) > 0,
        note="connections are rebalanced during each run's warm-up"
        + (
            f"; {odd} run(s) did not see exactly {server.workers} workers"
            if odd
            else ""
        ),
    )


def _slow_upstream(ctx, servers, tenant, *, repeat, seconds, warmup) -> dict:
    """Serve a page that waits SLOW_UPSTREAM_MS on PagerDuty, concurrently.

    `?refresh=1` skips the read cache, so every request waits upstream;
    more connections than page threads keep every thread waiting at once.
    Interleaved per repetition like the page runs.
    """
    sandbox = ctx.sandbox
    before = sandbox.control("GET", "state")["config"]
    sandbox.configure(latency_ms=SLOW_UPSTREAM_MS, rate_limit=1_000_000)
    path = tenant.path("incident_list") + "?refresh=1"
    headers = (_cookie(tenant.session_cookie()),)
    runs = {prefix: [] for prefix in servers}
    try:
        for server in servers.values():
            load_run(server, path, headers=headers, seconds=0.5, warmup=0)
        for _ in range(repeat):
            for prefix, server in servers.items():
                runs[prefix].append(
                    load_run(
                        server,
                        path,
                        headers=headers,
                        seconds=seconds,
                        warmup=warmup,
                        connections=SLOW_CONNECTIONS,
                    )
                )
    finally:
        sandbox.configure(
            latency_ms=before["latency_ms"], rate_limit=before["rate_limit"]
        )
    for prefix, server in servers.items():
        labelled = _Prefixed(ctx, prefix)
        labelled.add(
            f"slow upstream ({SLOW_UPSTREAM_MS} ms): cold incidents page",
            Stats.of(run.rate for run in runs[prefix]),
            unit="req/s",
            note=f"{SLOW_CONNECTIONS} connections, "
            f"{server.workers * server.threads} page threads",
        )
        errors = sum(run.errors for run in runs[prefix])
        labelled.add(
            "slow upstream: non-200 answers", errors, target="0", met=errors == 0
        )
    return runs


def _compare(ctx, pages: dict, slow: dict) -> None:
    """Give each ASGI deployment's rates as paired ratios to gthread's."""
    base = pages[""]
    for prefix in pages:
        if not prefix:
            continue
        for name, label in (
            ("integrations", "staff integrations page"),
            ("incidents", "cached incidents page"),
            ("trivial, signed in", "trivial view, signed in"),
        ):
            ratio = Stats.of(
                asgi.rate / wsgi.rate
                for asgi, wsgi in zip(pages[prefix][name], base[name], strict=True)
            )
            ctx.add(
                f"{prefix}{label} req/s ÷ gthread's",
                ratio,
                target="≥ 0.9",
                met=ratio.median >= 0.9,
                note="per-repetition ratio, the two runs seconds apart",
            )
        ratio = Stats.of(
            asgi.rate / wsgi.rate
            for asgi, wsgi in zip(slow[prefix], slow[""], strict=True)
        )
        ctx.add(
            f"{prefix}slow upstream req/s ÷ gthread's",
            ratio,
            target="≥ 0.9",
            met=ratio.median >= 0.9,
            note=f"a page waiting {SLOW_UPSTREAM_MS} ms on PagerDuty, "
            f"{SLOW_CONNECTIONS} connections",
        )


def _merge(dicts) -> dict:
    merged: dict[str, int] = {}
    for item in dicts:
        for key, value in item.items():
            merged[key] = merged.get(key, 0) + value
    return merged


def _warm(server: Gunicorn, path: str, headers) -> None:
    name, _, value = headers[0].partition(": ") if headers else ("", "", "")
    response = requests.get(
        f"{server.url}{path}",
        headers={name: value} if name else {},
        timeout=60,
        allow_redirects=False,
    )
    if response.status_code != 200:
        raise RuntimeError(
            f"{path} answered {response.status_code}, not 200:\n{server.log_tail()}"
        )


def _generator_ceiling(repeat: int, seconds: float, warmup: float) -> Stats:
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own module
        [sys.executable, "-m", "bench.load", "serve-ok", f"--port={port}"],
        cwd=ROOT,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/", timeout=30, process=process)
        return Stats.of(
            run_generator(
                port=port,
                path="/",
                connections=CONNECTIONS,
                seconds=seconds,
                warmup=warmup,
            ).rate
            for _ in range(repeat)
        )
    finally:
        process.terminate()
        process.wait(timeout=10)


def _storm(ctx, server: Gunicorn, tenant, repeat: int, *, shared_cache: bool) -> None:
    from django.utils import timezone

    from integrations.models import Connection
    from integrations.pagerduty.workspace.context import cache_invalidate

    sandbox = ctx.sandbox
    access_ttl = sandbox.control("GET", "state")["config"]["access_ttl"]
    # Without a shared cache the workers' copies cannot be emptied from here.
    path = tenant.path("incident_list") + ("" if shared_cache else "?refresh=1")
    headers = (_cookie(tenant.session_cookie()),)
    pk = tenant.connection.pk
    results, advanced, inactive = [], 0, 0
    try:
        for _ in range(repeat):
            # Expired on both sides: a request that used the old token would
            # get a 401 from the sandbox and refresh a second time.
            Connection.objects.filter(pk=pk).update(
                access_expires_at=timezone.now() - timedelta(minutes=1)
            )
            sandbox.advance(access_ttl + 1)
            advanced += access_ttl + 1
            cache_invalidate(pk)
            sandbox.clear_log()
            responses = burst(
                port=server.port,
                path=path,
                headers=headers,
                count=STORM_REQUESTS,
                worker_header=WORKER_HEADER,
                workers=server.workers,
                probe_path=TRIVIAL_PATH,
            )
            results.append(storm_summary(responses, sandbox.requests_log()))
            connection = Connection.objects.get(pk=pk)
            inactive += connection.status != Connection.Status.ACTIVE
            if connection.status != Connection.Status.ACTIVE:
                break  # every later storm would only count the same failure
    finally:
        sandbox.advance(-advanced)

    def stats(attribute):
        return Stats.of(getattr(result, attribute) for result in results)

    refreshes, errors, workers = stats("refreshes"), stats("errors"), stats("workers")
    how = (
        f"{STORM_REQUESTS} simultaneous requests (own connections, half per "
        "worker) for a cold incidents page, access token expired in the "
        f"database and at the sandbox; {server.workers * server.threads} run "
        "at a time, the rest queue in gunicorn"
    )
    ctx.add(
        "storm: refresh calls",
        refreshes,
        target="1",
        met=refreshes.min == refreshes.max == 1,
        note=how,
    )
    bad = [r.statuses for r in results if r.errors]
    ctx.add(
        "storm: errors",
        errors,
        target="0",
        met=errors.max == 0 and inactive == 0,
        note=(f"statuses: {bad}; " if bad else "")
        + f"connection flagged for reconnect after {inactive} storm(s)",
    )
    ctx.add("storm: p50 latency", stats("p50"), unit="s")
    ctx.add("storm: p95 latency", stats("p95"), unit="s")
    ctx.add("storm: max latency", stats("max"), unit="s")
    ctx.add(
        "storm: worker processes serving",
        workers,
        target=f"{WORKERS}",
        met=workers.min == WORKERS,
    )
    ctx.add(
        "storm: upstream reads",
        stats("upstream_reads"),
        note="GETs to the sandbox per storm: requests that found the page "
        "not yet cached",
    )
