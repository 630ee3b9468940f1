"""M18: gunicorn with two uvicorn workers serves both eras, unsticky.

The workers are other processes, so they share the test database only on
PostgreSQL (CI); elsewhere the test skips with the reason.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.db import connection as db_connection

from integrations.gateway.tools.registry import all_tools
from tests.gateway.agent import Agent
from tests.gateway.conftest import PASSWORD
from tests.gateway.harness import Browser, free_port
from tests.gateway.mcp_http import LEGACY, MODERN, list_tools, result
from tests.helpers import skip_unless_available

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

ROOT = Path(__file__).resolve().parent.parent.parent
WORKERS = 2


@pytest.fixture
def gunicorn(
    transactional_db, seeded_environments, sandbox_settings, settings, tmp_path
):
    skip_unless_available(
        db_connection.vendor == "postgresql",
        "gunicorn's workers share the test database on PostgreSQL only: "
        "set DATABASE_URL=postgres://…",
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings.PORTAL_BASE_URL = base
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": base}
    db = db_connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@"
        f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "PORTAL_BASE_URL": base,
    }
    process = subprocess.Popen(  # noqa: S603 - our own command
        [
            sys.executable,
            "-m",
            "gunicorn",
            "tests.gateway.worker_app:application",
            "--worker-class",
            "uvicorn_worker.UvicornWorker",
            f"--workers={WORKERS}",
            f"--bind=127.0.0.1:{port}",
            "--graceful-timeout=5",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "gunicorn.log").open("wb"),
    )
    try:
        _wait_until_serving(base, process, tmp_path / "gunicorn.log")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_until_serving(base, process, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            requests.get(f"{base}/healthz", timeout=10)
            return
        except requests.RequestException:
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail(f"gunicorn did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)


def test_m18_two_workers_serve_both_eras_without_sticky_routing(
    gunicorn, acme, alice, pagerduty_sandbox
):
    base = gunicorn
    results = {}
    for mode in ("auto", "legacy"):
        agent = Agent(
            f"{base}/mcp", Browser(base), "alice", PASSWORD, tenant_id=acme.pk
        )

        async def work(client):
            tools = await client.list_tools()
            called = await client.call_tool("list_incidents", {"limit": 1})
            return client.protocol_version, len(tools.tools), called.is_error

        results[mode] = agent.run(work, mode=mode)
    token = agent.storage.tokens.access_token
    answers, pids = [], set()
    for _ in range(16):
        for version in (MODERN, LEGACY):
            # A new connection each time: the kernel spreads them over both
            # workers, and nothing ties a request to the one before.
            response = list_tools(f"{base}/mcp", token, version=version)
            answers.append(len(result(response)["tools"]))
            pids.add(response.headers["X-Test-Worker"])

    offered = len(all_tools())
    assert results == {
        "auto": (MODERN, offered, False),
        "legacy": ("2025-11-25", offered, False),
    }
    assert set(answers) == {offered}
    assert len(pids) == WORKERS
