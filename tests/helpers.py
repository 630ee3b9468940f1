"""Small helpers shared by tests."""

import json
import os
from pathlib import Path

import pytest
from django.db import connection

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = Path(__file__).resolve().parent.parent.parent / "shared"


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
