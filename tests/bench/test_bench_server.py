"""The throughput and storm benchmark's parts (bench/load.py, bench/server.py).

Counts and shapes only: timings are the benchmark's business, not a test's.
"""

import os
import threading
import time
from collections import Counter
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

from bench.load import (
    WORKER_HEADER,
    BurstResponse,
    burst,
    generate,
    ok_app,
    parse_response,
    percentile,
    run_generator,
    serve_ok,
)
from bench.server import Gunicorn, storm_summary


def test_parse_response_waits_for_the_whole_body():
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Bench-Worker: 7\r\n\r\n"

    assert parse_response(head + b"abc") is None
    parsed = parse_response(head + b"abcdeHTTP/1.1 ...")

    assert (parsed.status, parsed.length, parsed.keep_alive) == (
        200,
        len(head) + 5,
        True,
    )
    assert parsed.headers["x-bench-worker"] == "7"


def test_parse_response_reads_chunked_bodies():
    head = b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n"
    body = b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"

    assert parse_response(head + body[:-2]) is None
    assert parse_response(head + body).length == len(head + body)
    assert parse_response(head + body).status == 404


@pytest.mark.parametrize(
    ("status_line", "connection", "keep_alive"),
    [
        ("HTTP/1.1 200 OK", "", True),
        ("HTTP/1.1 200 OK", "close", False),
        ("HTTP/1.0 200 OK", "", False),
        ("HTTP/1.0 200 OK", "keep-alive", True),
    ],
)
def test_parse_response_knows_when_the_server_closes(
    status_line, connection, keep_alive
):
    extra = f"Connection: {connection}\r\n" if connection else ""
    raw = f"{status_line}\r\nContent-Length: 0\r\n{extra}\r\n".encode()

    assert parse_response(raw).keep_alive is keep_alive


def test_percentile_is_nearest_rank():
    values = list(range(20, 0, -1))

    assert [percentile(values, q) for q in (5, 50, 95, 100)] == [1, 10, 19, 20]
    assert percentile([0.3], 95) == 0.3


@pytest.fixture
def ok_server():
    """The static "ok" server on a free port, in a thread."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ready, stop = threading.Event(), threading.Event()
    thread = threading.Thread(
        target=serve_ok, args=(port,), kwargs={"ready": ready, "stop": stop}
    )
    thread.start()
    ready.wait(10)
    yield port
    stop.set()
    thread.join(10)


def test_generator_keeps_its_connections_alive(ok_server):
    result = generate(
        host="127.0.0.1",
        port=ok_server,
        path="/",
        connections=3,
        seconds=0.3,
        warmup=0.05,
    )

    assert result.requests > 0
    assert result.statuses == {"200": result.requests}
    assert (result.errors, result.reconnects, result.connections) == (0, 0, 3)
    assert result.completed >= result.requests


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def closing_wsgi_server():
    """wsgiref serving `ok_app`: HTTP/1.0, one request per connection."""
    server = make_server("127.0.0.1", 0, ok_app, handler_class=_QuietHandler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}
    )
    thread.start()
    yield server.server_port
    server.shutdown()
    thread.join(10)
    server.server_close()


def test_generator_counts_non_200_as_errors_and_reopens_closed_connections(
    closing_wsgi_server,
):
    result = generate(
        host="127.0.0.1",
        port=closing_wsgi_server,
        path="/status/503",
        connections=2,
        seconds=0.3,
        warmup=0.05,
        worker_header=WORKER_HEADER,
    )

    assert result.requests > 0
    assert result.statuses == {"503": result.requests}
    assert result.errors == result.requests
    assert result.reconnects >= result.requests
    assert result.workers == {str(os.getpid()): result.requests}


def test_generator_runs_in_its_own_process(ok_server):
    result = run_generator(port=ok_server, path="/", connections=2, seconds=0.2)

    assert result.requests > 0
    assert result.errors == 0
    assert result.cpu_seconds > 0


def test_storm_summary_counts_refreshes_errors_and_workers():
    answers = [BurstResponse(200, i / 10, "11", b"<main>ok</main>") for i in range(17)]
    answers += [
        BurstResponse(200, 1.7, "12", b'<p id="reconnect-banner">Reconnect</p>'),
        BurstResponse(502, 1.8, "12", b"PagerDuty is unavailable"),
        BurstResponse(0, 2.0, "", b""),
    ]
    log = [
        {"method": "POST", "path": "/oauth/token", "status": 200},
        {"method": "GET", "path": "/incidents", "status": 200},
        {"method": "GET", "path": "/incidents", "status": 200},
        {"method": "POST", "path": "/_sandbox/tokens", "status": 200},
        {"method": "GET", "path": "/_sandbox/state", "status": 200},
    ]

    summary = storm_summary(answers, log)

    assert (summary.refreshes, summary.errors, summary.workers) == (1, 3, 2)
    assert summary.upstream_reads == 2
    assert (summary.p50, summary.p95, summary.max) == (0.9, 1.8, 2.0)
    assert summary.statuses == {"200": 18, "502": 1, "0": 1}


def test_storm_summary_counts_every_refresh():
    answers = [BurstResponse(200, 0.1, "11", b"ok")]
    log = [{"method": "POST", "path": "/oauth/token", "status": 200}] * 2

    assert storm_summary(answers, log).refreshes == 2


def test_gunicorn_splits_a_burst_and_the_load_over_both_workers(tmp_path):
    if not Path("/proc/self/stat").exists():
        pytest.skip("worker processes are found through /proc (Linux only)")

    with Gunicorn(
        app="bench.load:ok_app", workers=2, threads=2, log_path=tmp_path / "log"
    ) as server:
        pids = {str(pid) for pid in server.worker_pids()}
        answers = burst(
            port=server.port,
            path="/",
            count=10,
            worker_header=WORKER_HEADER,
            workers=2,
            probe_path="/",
        )
        load = generate(
            host="127.0.0.1",
            port=server.port,
            path="/",
            connections=4,
            seconds=0.3,
            warmup=0.3,
            worker_header=WORKER_HEADER,
            workers=2,
        )
        cpu = server.cpu_seconds()

    assert len(pids) == 2
    assert [answer.status for answer in answers] == [200] * 10
    assert Counter(answer.worker for answer in answers) == dict.fromkeys(pids, 5)
    assert set(load.workers) == pids
    assert load.errors == 0
    assert cpu is not None
    assert server.process.returncode is not None
    assert _gone(pids)


def _gone(pids, wait: float = 10.0) -> bool:
    deadline = time.monotonic() + wait
    while any(Path(f"/proc/{pid}").exists() for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_gunicorn_that_cannot_start_raises_and_leaves_nothing_running(tmp_path):
    server = Gunicorn(
        app="bench.load:no_such_app", workers=2, threads=1, log_path=tmp_path / "log"
    )

    with pytest.raises(RuntimeError, match="did not start"), server:
        pass

    assert server.process.poll() is not None
    assert "no_such_app" in (tmp_path / "log").read_text()


def test_gunicorn_serves_the_asgi_entry_point_from_both_uvicorn_workers(tmp_path):
    if not Path("/proc/self/stat").exists():
        pytest.skip("worker processes are found through /proc (Linux only)")

    with Gunicorn(
        app="bench.asgi:application",
        worker_class="uvicorn_worker.UvicornWorker",
        workers=2,
        threads=2,
        env={"DJANGO_SETTINGS_MODULE": "bench.settings"},
        log_path=tmp_path / "log",
    ) as server:
        pids = {str(pid) for pid in server.worker_pids()}
        answers = burst(
            port=server.port,
            path="/bench/trivial/",
            count=10,
            worker_header=WORKER_HEADER,
            workers=2,
            probe_path="/bench/trivial/",
        )

    assert server.description == "2 uvicorn workers, pages in 2 threads a worker"
    assert [answer.status for answer in answers] == [200] * 10
    assert {answer.worker for answer in answers} == pids
    assert _gone(pids)
