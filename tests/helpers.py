"""Small helpers shared by tests."""

import json
import os
import threading
from pathlib import Path

import pytest
from django.db import connection

FIXTURES = Path(__file__).resolve().parent / "fixtures"
# ../shared beside the checkout; PORTAL_SHARED points elsewhere (a git
# worktree lives one level deeper than the main checkout).
SHARED = Path(
    os.environ.get("PORTAL_SHARED")
    or Path(__file__).resolve().parent.parent.parent / "shared"
)


def load_json(name: str):
    """Return a JSON fixture from tests/fixtures/."""
    return json.loads((FIXTURES / name).read_text())


def raw_column(model, field: str, pk) -> str:
    """Return a column's stored value read with SQL, bypassing decryption."""
    table = connection.ops.quote_name(model._meta.db_table)
    column = connection.ops.quote_name(model._meta.get_field(field).column)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        value = cursor.fetchone()[0]
    if isinstance(value, memoryview):
        value = value.tobytes()
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def skip_unless_available(condition: bool, reason: str) -> None:
    """Skip with a reason; fail instead where PORTAL_REQUIRE_ALL=1 (CI).

    Tests that need ../shared, Chromium or PostgreSQL use this, so a
    newcomer's machine skips them with a printed reason and CI cannot.
    """
    if condition:
        return
    if os.environ.get("PORTAL_REQUIRE_ALL") == "1":
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def run_in_threads(target, count: int):
    """Start `target` in `count` threads at once; return (results, errors).

    Each thread closes its own database connection, as Django's per-thread
    connections would otherwise stay open past the test.
    """
    barrier = threading.Barrier(count)
    results, errors = [], []

    def worker():
        try:
            barrier.wait(10)
            results.append(target())
        except Exception as exc:  # noqa: BLE001 - collected and asserted on
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads)
    return results, errors
