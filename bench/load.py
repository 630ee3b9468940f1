"""A bounded HTTP/1.1 load generator, a request burst and a static server.

Standard library only, because `wrk` is not on a clean machine. The
generator keeps a fixed number of keep-alive connections busy for a fixed
time from one selector loop in its own process:

    python -m bench.load generate --port 8000 --path /bench/trivial/ \
        [--connections 8] [--seconds 2] [--warmup 0.3] [--header 'Cookie: a=b']

prints one JSON object (see `LoadResult`). Raw sockets and a hand-written
response parser cost a fraction of `http.client`, so on a small machine
more of the CPU is left to the server being measured. `serve-ok --port N`
answers every request with a fixed "ok": the generator's own ceiling.
"""

import argparse
import contextlib
import json
import math
import os
import resource
import selectors
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field

# bench/wsgi.py names the gunicorn worker process in this response header.
WORKER_HEADER = "X-Bench-Worker"
OK_RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"
)


def percentile(values, q: float) -> float:
    """Return the nearest-rank `q`th percentile (0 < q <= 100) of `values`."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def build_request(host: str, port: int, path: str, headers=()) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", *headers, "", ""]
    return "\r\n".join(lines).encode("latin-1")


@dataclass
class Parsed:
    status: int
    length: int  # bytes of the whole response in the buffer
    keep_alive: bool
    headers: dict[str, str]


def parse_response(buffer: bytes | bytearray) -> Parsed | None:
    """Return the first complete response in `buffer`, or None if it is partial.

    Handles Content-Length and chunked bodies, which is all Django and
    gunicorn send for these pages.
    """
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = bytes(buffer[:end]).decode("latin-1").split("\r\n")
    status = int(head[0].split(" ", 2)[1])
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body_start = end + 4
    if headers.get("transfer-encoding", "").lower() == "chunked":
        position = body_start
        while True:
            line_end = buffer.find(b"\r\n", position)
            if line_end < 0:
                return None
            size = int(bytes(buffer[position:line_end]).split(b";")[0], 16)
            position = line_end + 2 + size + 2
            if position > len(buffer):
                return None
            if size == 0:
                total = position
                break
    else:
        total = body_start + int(headers.get("content-length", "0"))
        if total > len(buffer):
            return None
    connection = headers.get("connection", "").lower()
    if head[0].startswith("HTTP/1.0"):
        keep_alive = connection == "keep-alive"
    else:
        keep_alive = connection != "close"
    return Parsed(status, total, keep_alive, headers)


@dataclass
class LoadResult:
    """What one generator run measured inside its timed window."""

    requests: int
    seconds: float
    completed: int  # answers read in all, warm-up and stragglers included
    statuses: dict[str, int]
    errors: int  # non-200 answers plus broken connections
    latency_p50: float
    latency_p95: float
    reconnects: int
    cpu_seconds: float  # the generator's own CPU time, warm-up included
    connections: int
    workers: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


class _Connection:
    def __init__(self, address):
        self.address = address
        self.buffer = bytearray()
        self.sent_at = 0.0
        self.sock = None
        self.worker: str | None = None
        self.probing = False

    def open(self, selector):
        self.sock = socket.create_connection(self.address, timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.buffer.clear()
        self.worker = None
        selector.register(self.sock, selectors.EVENT_READ, self)

    def close(self, selector):
        if self.sock is not None:
            selector.unregister(self.sock)
            self.sock.close()
            self.sock = None

    def send(self, request: bytes):
        self.sent_at = time.perf_counter()
        self.sock.sendall(request)


def generate(
    *,
    host: str,
    port: int,
    path: str,
    headers=(),
    connections: int = 8,
    seconds: float = 2.0,
    warmup: float = 0.3,
    worker_header: str = "",
    workers: int = 0,
    probe_path: str = "",
) -> LoadResult:
    """Keep `connections` requests in flight for `warmup` + `seconds`.

    Only answers completed inside the timed window count. Each connection
    sends its next request as soon as the previous answer is read; a
    closed connection is reopened and counted in `reconnects`.

    With `workers`, every new connection first asks for `probe_path` (a
    cheap page) to learn which worker process holds it (`worker_header`),
    and is reopened while that worker already has its share, until the
    timed window starts: the kernel hands connections to whichever process
    accepts first, and a lopsided split would leave a CPU idle.
    """
    request = build_request(host, port, path, headers)
    probe = build_request(host, port, probe_path or path, ())
    selector = selectors.DefaultSelector()
    pool = [_Connection((host, port)) for _ in range(connections)]
    statuses, workers_seen, placed = Counter(), Counter(), Counter()
    share = math.ceil(connections / workers) if workers else 0
    latencies, errors, reconnects, completed = [], 0, 0, 0
    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    window_start, window_end = started + warmup, started + warmup + seconds

    def restart(conn: _Connection) -> None:
        if conn.sock is not None:
            placed[conn.worker] -= conn.worker is not None
            conn.close(selector)
        conn.open(selector)
        conn.probing = bool(share)
        conn.send(probe if share else request)

    for conn in pool:
        restart(conn)
    try:
        while time.perf_counter() < window_end:
            for key, _ in selector.select(timeout=0.05):
                conn = key.data
                try:
                    chunk = conn.sock.recv(262_144)
                except OSError:
                    chunk = b""
                now = time.perf_counter()
                if not chunk:
                    errors += window_start <= now < window_end and not conn.probing
                    reconnects += 1
                    restart(conn)
                    continue
                conn.buffer += chunk
                parsed = parse_response(conn.buffer)
                if parsed is None:
                    continue
                del conn.buffer[: parsed.length]
                worker = parsed.headers.get(worker_header.lower(), "")
                if conn.probing:
                    if placed[worker] < share or now >= window_start:
                        conn.worker, conn.probing = worker, False
                        placed[worker] += 1
                        conn.send(request)
                    else:
                        restart(conn)
                    continue
                completed += 1
                if window_start <= now < window_end:
                    statuses[str(parsed.status)] += 1
                    errors += parsed.status != 200
                    latencies.append(now - conn.sent_at)
                    if worker_header:
                        workers_seen[worker] += 1
                if parsed.keep_alive:
                    conn.send(request)
                else:
                    reconnects += 1
                    restart(conn)
    finally:
        for conn in pool:
            conn.close(selector)
        selector.close()
    return LoadResult(
        requests=sum(statuses.values()),
        seconds=seconds,
        completed=completed,
        statuses=dict(statuses),
        errors=errors,
        latency_p50=percentile(latencies, 50) if latencies else 0.0,
        latency_p95=percentile(latencies, 95) if latencies else 0.0,
        reconnects=reconnects,
        cpu_seconds=_cpu_seconds() - cpu_before,
        connections=connections,
        workers=dict(workers_seen),
    )


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_generator(
    *,
    port: int,
    path: str,
    headers=(),
    connections: int = 8,
    seconds: float = 2.0,
    warmup: float = 0.3,
    worker_header: str = "",
    workers: int = 0,
    probe_path: str = "",
    host: str = "127.0.0.1",
) -> LoadResult:
    """Run `generate` in a fresh process (not sharing our GIL) and return it."""
    command = [
        sys.executable,
        "-m",
        "bench.load",
        "generate",
        f"--host={host}",
        f"--port={port}",
        f"--path={path}",
        f"--connections={connections}",
        f"--seconds={seconds}",
        f"--warmup={warmup}",
        f"--worker-header={worker_header}",
        f"--workers={workers}",
        f"--probe-path={probe_path}",
        *(f"--header={header}" for header in headers),
    ]
    done = subprocess.run(  # noqa: S603 - our own module
        command,
        capture_output=True,
        text=True,
        timeout=seconds + warmup + 60,
        check=False,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed: {done.stderr.strip()[-2000:]}")
    return LoadResult(**json.loads(done.stdout))


@dataclass
class BurstResponse:
    status: int  # 0 when the connection failed
    seconds: float
    worker: str
    body: bytes


def burst(
    *,
    port: int,
    path: str,
    headers=(),
    count: int = 50,
    host: str = "127.0.0.1",
    worker_header: str = "",
    workers: int = 0,
    probe_path: str = "",
    timeout: float = 60.0,
) -> list[BurstResponse]:
    """Send `count` requests at the same moment, each on its own connection.

    Connections are opened first and a barrier releases every request
    together, so they are all in flight at once (like `count` browsers).
    With `workers` and `probe_path`, each connection first asks for
    `probe_path` to learn which worker process holds it (`worker_header`)
    and is reopened until every worker holds its share of the burst.
    """
    request = build_request(host, port, path, [*headers, "Connection: close"])
    probe = build_request(host, port, probe_path or "/", [])
    share = math.ceil(count / workers) if workers and probe_path else 0
    placed, lock = Counter(), threading.Lock()
    barrier = threading.Barrier(count)
    results: list[BurstResponse | None] = [None] * count

    def connect() -> socket.socket:
        for _ in range(200):
            sock = socket.create_connection((host, port), timeout=timeout)
            if not share:
                return sock
            sock.sendall(probe)
            worker = _read_response(sock)[0].headers.get(worker_header.lower(), "")
            with lock:
                if placed[worker] < share:
                    placed[worker] += 1
                    return sock
            sock.close()
        return socket.create_connection((host, port), timeout=timeout)

    def one(index: int) -> None:
        began = time.perf_counter()
        try:
            with connect() as sock:
                barrier.wait(timeout)
                began = time.perf_counter()
                sock.sendall(request)
                parsed, buffer = _read_response(sock)
            elapsed = time.perf_counter() - began
            if parsed is None:
                results[index] = BurstResponse(0, elapsed, "", bytes(buffer))
                return
            header_end = buffer.find(b"\r\n\r\n") + 4
            results[index] = BurstResponse(
                parsed.status,
                elapsed,
                parsed.headers.get(worker_header.lower(), ""),
                bytes(buffer[header_end : parsed.length]),
            )
        except (OSError, threading.BrokenBarrierError):
            barrier.abort()
            elapsed = time.perf_counter() - began
            results[index] = BurstResponse(0, elapsed, "", b"")

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _read_response(sock: socket.socket) -> tuple[Parsed | None, bytearray]:
    """Read one response from a blocking socket; None if it closed early."""
    buffer = bytearray()
    while True:
        parsed = parse_response(buffer)
        if parsed is not None:
            return parsed, buffer
        chunk = sock.recv(262_144)
        if not chunk:
            return None, buffer
        buffer += chunk


def serve_ok(port: int, *, host: str = "127.0.0.1", ready=None, stop=None) -> None:
    """Answer every GET with a fixed "ok" on keep-alive connections.

    One selector loop: the cheapest server the generator can be pointed at,
    so its rate is the generator's own ceiling on this machine.
    """
    selector = selectors.DefaultSelector()
    listener = socket.create_server((host, port), backlog=512)
    listener.setblocking(False)
    selector.register(listener, selectors.EVENT_READ, None)
    if ready is not None:
        ready.set()
    buffers: dict[socket.socket, bytearray] = {}
    try:
        while stop is None or not stop.is_set():
            for key, _ in selector.select(timeout=0.1):
                if key.data is None:
                    sock, _ = listener.accept()
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    sock.setblocking(False)
                    buffers[sock] = bytearray()
                    selector.register(sock, selectors.EVENT_READ, True)
                    continue
                sock = key.fileobj
                try:
                    chunk = sock.recv(65_536)
                except OSError:
                    chunk = b""
                if not chunk:
                    selector.unregister(sock)
                    sock.close()
                    del buffers[sock]
                    continue
                buffer = buffers[sock]
                buffer += chunk
                answers = buffer.count(b"\r\n\r\n")
                if answers:
                    del buffer[: buffer.rfind(b"\r\n\r\n") + 4]
                    with contextlib.suppress(OSError):
                        sock.sendall(OK_RESPONSE * answers)
    finally:
        for sock in buffers:
            sock.close()
        listener.close()
        selector.close()


def ok_app(environ, start_response):
    """A WSGI app answering "ok" and naming its process, like bench/wsgi.py.

    `/status/<code>` answers with that status instead (for tests).
    """
    path = environ.get("PATH_INFO", "")
    status = path.removeprefix("/status/") if path.startswith("/status/") else "200"
    start_response(
        f"{status} Bench",
        [
            ("Content-Type", "text/plain"),
            ("Content-Length", "2"),
            (WORKER_HEADER, str(os.getpid())),
        ],
    )
    return [b"ok"]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load")
    commands = parser.add_subparsers(dest="command", required=True)
    load = commands.add_parser("generate")
    load.add_argument("--host", default="127.0.0.1")
    load.add_argument("--port", type=int, required=True)
    load.add_argument("--path", required=True)
    load.add_argument("--connections", type=int, default=8)
    load.add_argument("--seconds", type=float, default=2.0)
    load.add_argument("--warmup", type=float, default=0.3)
    load.add_argument("--worker-header", default="")
    load.add_argument("--workers", type=int, default=0)
    load.add_argument("--probe-path", default="")
    load.add_argument("--header", action="append", default=[])
    serve = commands.add_parser("serve-ok")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    if args.command == "serve-ok":
        serve_ok(args.port, host=args.host)
        return
    result = generate(
        host=args.host,
        port=args.port,
        path=args.path,
        headers=args.header,
        connections=args.connections,
        seconds=args.seconds,
        warmup=args.warmup,
        worker_header=args.worker_header,
        workers=args.workers,
        probe_path=args.probe_path,
    )
    print(json.dumps(asdict(result)))


if __name__ == "__main__":
    main()
