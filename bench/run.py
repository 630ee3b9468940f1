"""Run every benchmark section, print one table and write bench/results/.

    python -m bench.run [--latency-ms 25] [--repeat 7] [--only pages,export]

`make bench` runs it with the defaults. The benchmark owns its database
(PostgreSQL `portal_bench` when a server answers on 127.0.0.1:5432, else a
SQLite file under var/) and Redis database 14 when Redis answers; both are
wiped at the start of every run.
"""

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from datetime import UTC, datetime

from bench.common import ROOT, Context, Figure, Sandbox, Stats

SECTIONS = ("pages", "export", "server", "mcp")
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = "portal_bench"
REDIS_BENCH_URL = "redis://127.0.0.1:6379/14"


def main(argv=None) -> int:
    args = _parse(argv)
    started = time.monotonic()
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    (ROOT / "var" / "static").mkdir(parents=True, exist_ok=True)
    database = _prepare_database()
    cache = _prepare_cache()
    print(f"Database: {database}; cache: {cache}", flush=True)
    print(
        f"Seeding the sandbox: {args.incidents} incidents, {args.services} services, "
        f"{args.latency_ms} ms latency",
        flush=True,
    )
    sandbox = Sandbox(
        incidents=args.incidents, services=args.services, latency_ms=args.latency_ms
    ).start()
    try:
        os.environ["PAGERDUTY_IDENTITY_URL"] = sandbox.url
        os.environ["PAGERDUTY_API_URL"] = sandbox.url
        os.environ["PAGERDUTY_EU_API_URL"] = sandbox.eu_api_url
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        ctx = Context(
            latency_ms=args.latency_ms,
            repeat=args.repeat,
            incidents=args.incidents,
            services=args.services,
            database=database,
            cache=cache,
            sandbox=sandbox,
            quick=args.quick,
        )
        crashed = _run_sections(ctx, args.only)
    finally:
        sandbox.stop()
    elapsed = time.monotonic() - started
    print()
    print(format_table(ctx.figures))
    path = _write_results(ctx, args, elapsed)
    print(f"\n{len(ctx.figures)} figures in {elapsed:.0f} s; written to {path}")
    return 1 if crashed else 0


def _parse(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.run")
    parser.add_argument("--latency-ms", type=int, default=25)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument(
        "--only", default=",".join(SECTIONS), help=f"comma list of {SECTIONS}"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer runs and smaller data: checks the benchmark works, "
        "its figures are not the ones to quote",
    )
    args = parser.parse_args(argv)
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(args.only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def _run_sections(ctx: Context, only: list[str]) -> bool:
    crashed = False
    for name in SECTIONS:
        if name not in only:
            continue
        ctx.current_section = name
        print(f"== {name}", flush=True)
        section_started = time.monotonic()
        try:
            importlib.import_module(f"bench.{name}").run(ctx)
        except Exception as exc:  # noqa: BLE001 - report and go on with the rest
            traceback.print_exc()
            ctx.add(
                "section failed", None, met=False, note=f"{type(exc).__name__}: {exc}"
            )
            crashed = True
        print(f"   {name}: {time.monotonic() - section_started:.0f} s", flush=True)
    return crashed


def _prepare_database() -> str:
    """Use BENCH_DATABASE_URL, else a fresh PostgreSQL database, else SQLite."""
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        os.environ["DATABASE_URL"] = url
        return url.split("@")[-1]
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as db:
            db.execute(f"DROP DATABASE IF EXISTS {PG_BENCH_DB} WITH (FORCE)")
            db.execute(f"CREATE DATABASE {PG_BENCH_DB}")
    except Exception as exc:  # noqa: BLE001 - any failure means "no PostgreSQL here"
        path = ROOT / "var" / "bench.sqlite3"
        path.parent.mkdir(exist_ok=True)
        path.unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
        return f"SQLite ({path.relative_to(ROOT)}; PostgreSQL unavailable: {exc})"
    os.environ["DATABASE_URL"] = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{PG_BENCH_DB}"
    return f"PostgreSQL ({PG_BENCH_DB})"


def _prepare_cache() -> str:
    url = os.environ.get("BENCH_REDIS_URL", REDIS_BENCH_URL)
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2).flushdb()
    except Exception as exc:  # noqa: BLE001 - any failure means "no Redis here"
        os.environ.pop("REDIS_URL", None)
        return f"process memory (Redis unavailable: {exc})"
    os.environ["REDIS_URL"] = url
    return f"Redis ({url})"


def _value_columns(value) -> tuple[str, str, str]:
    if isinstance(value, Stats):
        return _number(value.median), _number(value.min), _number(value.max)
    if value is None:
        return "n/a", "", ""
    if isinstance(value, str):
        return "(note)", "", ""  # a description: it would stretch the column
    return _number(value), "", ""


def _number(value: float) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"


def format_table(figures: list[Figure]) -> str:
    header = ("section", "figure", "median", "min", "max", "unit", "target", "met")
    rows = [header]
    for figure in figures:
        met = {True: "yes", False: "NO", None: ""}[figure.met]
        rows.append(
            (
                figure.section,
                figure.name,
                *_value_columns(figure.value),
                figure.unit,
                figure.target,
                met,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for index, row in enumerate(rows):
        cells = [
            cell.rjust(width) if 2 <= i <= 4 else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    notes = [
        f"{f.section}/{f.name}: "
        + "; ".join(part for part in (f.value, f.note) if part)
        if isinstance(f.value, str)
        else f"{f.section}/{f.name}: {f.note}"
        for f in figures
        if f.note or isinstance(f.value, str)
    ]
    if notes:
        lines += ["", "Notes:", *(f"- {note}" for note in notes)]
    return "\n".join(lines)


def _write_results(ctx: Context, args, elapsed: float):
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    now = datetime.now(UTC)
    data = {
        "finished_at": now.isoformat(timespec="seconds"),
        "commit": _commit(),
        "seconds": round(elapsed, 1),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "settings": {
            "latency_ms": args.latency_ms,
            "repeat": args.repeat,
            "incidents": args.incidents,
            "services": args.services,
            "quick": args.quick,
            "database": ctx.database,
            "cache": ctx.cache,
        },
        "figures": [figure.as_dict() for figure in ctx.figures],
        "table": format_table(ctx.figures),
    }
    path = results / f"{now:%Y%m%dT%H%M%SZ}.json"
    text = json.dumps(data, indent=2, default=str)
    path.write_text(text)
    (results / "latest.json").write_text(text)
    return path.relative_to(ROOT)


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
