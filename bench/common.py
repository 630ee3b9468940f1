"""What every benchmark section shares: figures, timing, the sandbox process,
the benchmark database and a tenant connected to a sandbox.

A section is a module with `run(ctx: Context) -> None` that adds figures with
`ctx.add(...)`. Times are medians of `ctx.repeat` runs with min and max, and
every target is a ratio against something measured in the same run, because
absolute times on a shared machine are noise.
"""

import io
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
SANDBOX_USER = "alice@acme.example"


@dataclass
class Stats:
    """Median, min and max of repeated samples (seconds, counts, ratios)."""

    median: float
    min: float
    max: float
    runs: int

    @classmethod
    def of(cls, samples: Iterable[float]) -> "Stats":
        values = list(samples)
        if not values:
            raise ValueError("no samples")
        return cls(statistics.median(values), min(values), max(values), len(values))

    def scaled(self, factor: float) -> "Stats":
        return Stats(
            self.median * factor, self.min * factor, self.max * factor, self.runs
        )


def paired_ratios(
    numerator: Callable[[], object],
    denominator: Callable[[], object],
    repeat: int,
    *,
    before_each: Callable[[], object] | None = None,
) -> tuple[Stats, Stats, Stats]:
    """Time both callables alternately and return (ratio, numerator, denominator).

    Alternating pairs keeps a slow moment on the machine from landing on only
    one side of the ratio; the ratio's median is the median of per-pair
    ratios. `before_each` runs untimed before every timed call (for example
    emptying a cache for cold figures).
    """
    top, bottom = [], []
    for _ in range(repeat):
        for fn, samples in ((denominator, bottom), (numerator, top)):
            if before_each:
                before_each()
            started = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - started)
    ratios = [a / b for a, b in zip(top, bottom, strict=True)]
    return Stats.of(ratios), Stats.of(top), Stats.of(bottom)


@dataclass
class Figure:
    """One line of the table and of the JSON file.

    `met` is None when the figure has no target (context, not a claim).
    """

    section: str
    name: str
    value: Stats | float | int | str | None
    unit: str = ""
    target: str = ""
    met: bool | None = None
    note: str = ""

    def as_dict(self) -> dict:
        data = asdict(self)
        if isinstance(self.value, Stats):
            data["value"] = asdict(self.value)
        return data


def expect_status(response, status: int = 200):
    """Stop the benchmark on a wrong answer: a fast error is not a figure."""
    if response.status_code != status:
        where = getattr(response, "url", None) or response.request.get("PATH_INFO")
        raise RuntimeError(f"{where} answered {response.status_code}, not {status}")
    return response


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, *, timeout: float = 30.0, process=None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with {process.returncode}")
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer in {timeout:.0f} s") from None
            time.sleep(0.1)


class Sandbox:
    """The PagerDuty sandbox in its own process, steered by `/_sandbox/`.

    Its own process, not a thread: a thread would share the benchmark's GIL
    and make the portal look slower than it is.
    """

    def __init__(
        self,
        *,
        incidents: int,
        services: int,
        latency_ms: int,
        rate_limit: int = 960,
        seed: int = 1,
    ):
        self.options = {
            "incidents": incidents,
            "services": services,
            "latency_ms": latency_ms,
            "rate_limit": rate_limit,
            "seed": seed,
        }
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.session = requests.Session()

    def start(self) -> "Sandbox":
        command = [
            sys.executable,
            str(ROOT / "manage.py"),
            "pagerduty_sandbox",
            "--port",
            str(self.port),
            "--seed",
            str(self.options["seed"]),
            "--incidents",
            str(self.options["incidents"]),
            "--services",
            str(self.options["services"]),
            "--latency-ms",
            str(self.options["latency_ms"]),
            "--rate-limit",
            str(self.options["rate_limit"]),
        ]
        self.process = subprocess.Popen(  # noqa: S603 - our own command
            command,
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(f"{self.url}/_sandbox/state", timeout=120, process=self.process)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    @property
    def eu_api_url(self) -> str:
        return f"{self.url}/eu"

    def control(self, method: str, path: str, body=None) -> dict | None:
        response = self.session.request(
            method, f"{self.url}/_sandbox/{path}", json=body, timeout=60
        )
        response.raise_for_status()
        return response.json() if response.content else None

    def reset(self) -> None:
        """Re-seed the world; also refills every rate-limit budget."""
        self.control("POST", "reset", {})

    def configure(self, **config) -> None:
        self.control("PUT", "config", config)

    def clear_log(self) -> None:
        self.control("DELETE", "requests")

    def requests_log(self) -> list[dict]:
        """[{"method", "path", "status"}] since the last `clear_log`."""
        return self.control("GET", "requests")["requests"]

    def mint(self, user_email: str = SANDBOX_USER, scopes=None) -> dict:
        """A user grant: access_token, refresh_token, expires_in, scope."""
        body = {"user_email": user_email}
        if scopes is not None:
            body["scopes"] = list(scopes)
        return self.control("POST", "tokens", body)

    def advance(self, seconds: float) -> None:
        self.control("POST", "advance", {"seconds": seconds})


def count_upstream(log: list[dict], *, prefix: str = "/", method: str | None = None):
    """Requests in a sandbox log, leaving out its control endpoints."""
    return sum(
        1
        for entry in log
        if entry["path"].startswith(prefix)
        and not entry["path"].startswith("/_sandbox/")
        and (method is None or entry["method"] == method)
    )


@dataclass
class ConnectedTenant:
    """A tenant connected to a sandbox as Alice, and a logged-in member."""

    tenant: object
    user: object
    connection: object
    sandbox: Sandbox

    def path(self, name: str, **kwargs) -> str:
        """A workspace URL, e.g. path("incident_list")."""
        from django.urls import reverse

        return reverse(
            f"integrations:{name}", kwargs={"tenant_id": self.tenant.pk, **kwargs}
        )

    def client(self):
        """A Django test client logged in as the member (in-process requests)."""
        from django.test import Client

        client = Client()
        client.force_login(self.user)
        return client

    def session_cookie(self) -> tuple[str, str]:
        """(cookie name, value) for requests to a portal in another process."""
        from django.conf import settings

        client = self.client()
        return settings.SESSION_COOKIE_NAME, client.cookies[
            settings.SESSION_COOKIE_NAME
        ].value


def connect_tenant(
    sandbox: Sandbox,
    *,
    slug: str = "acme",
    name: str = "Acme Corp",
    user_email: str = SANDBOX_USER,
):
    """Create (or reuse) a tenant whose connection holds a fresh sandbox grant.

    The environment's app is the sandbox's demo app, configured by the same
    command `make demo` runs. PagerDuty's rate limit is per user and app, so
    tenants connected as different users do not share a budget.
    """
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from integrations.models import Connection, Environment, Membership, Tenant

    call_command(
        "pagerduty_sandbox_configure_demo",
        "--sandbox-url",
        sandbox.url,
        stdout=io.StringIO(),
    )
    environment = Environment.objects.get(slug="development")
    oauth_client = environment.oauth_clients.get(tenant__isnull=True)
    tenant, _ = Tenant.objects.get_or_create(
        environment=environment, slug=slug, defaults={"name": name}
    )
    user, created = get_user_model().objects.get_or_create(username=f"{slug}-admin")
    if created:
        user.set_password(f"{slug}-admin")
        user.save()
    Membership.objects.get_or_create(
        tenant=tenant, user=user, defaults={"role": Membership.Role.ADMIN}
    )
    grant = sandbox.mint(user_email)
    Connection.objects.filter(tenant=tenant).delete()
    connection = Connection.objects.create(
        tenant=tenant,
        oauth_client=oauth_client,
        account_id=grant["account_id"],
        subdomain="acme",
        api_url=sandbox.url,
        pd_user_id=_me(sandbox, grant["access_token"])["id"],
        pd_user_name="Alice",
        pd_user_email=user_email,
        access_token=grant["access_token"],
        refresh_token=grant["refresh_token"],
        access_expires_at=timezone.now() + timedelta(seconds=grant["expires_in"]),
        granted_scopes=grant["scope"],
        requested_scopes=oauth_client.scopes,
    )
    return ConnectedTenant(
        tenant=tenant, user=user, connection=connection, sandbox=sandbox
    )


def _me(sandbox: Sandbox, token: str) -> dict:
    response = requests.get(
        f"{sandbox.url}/users/me",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()["user"]


@dataclass
class Context:
    """What `bench/run.py` hands every section."""

    latency_ms: int
    repeat: int
    incidents: int
    services: int
    database: str
    cache: str
    sandbox: Sandbox
    quick: bool = False
    figures: list[Figure] = field(default_factory=list)
    current_section: str = ""

    def add(self, name: str, value, **details) -> Figure:
        figure = Figure(section=self.current_section, name=name, value=value, **details)
        self.figures.append(figure)
        return figure
