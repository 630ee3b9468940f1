"""I. Encryption at rest and key rotation (SECURITY-TESTS T70–T76).

The rotation command's own tests live in tests/integrations/test_crypto.py;
the items here reuse its fixtures with the plan's exact inputs.
"""

import json
import pickle
import random
import re
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from integrations.crypto import KEY_RING, UndecryptableValue
from integrations.models import Connection, OAuthClient
from tests.helpers import raw_column
from tests.integrations.test_crypto import (  # noqa: F401 - fixtures
    K1,
    K2,
    _all_plaintexts,
    _raw_rows,
    _rotate,
    keys,
    two_hundred_rows,
)
from tests.portal.test_settings import PRODUCTION_ENV, _run
from tests.security.conftest import AT_A, CANARIES, CS_A, RT_A

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent.parent


def test_t70_encrypted_fields_import_and_round_trip_on_this_django(world):
    from django_cryptography.fields import encrypt  # noqa: F401 - the import is the check

    client = OAuthClient.objects.get(pk=world.app_b.pk)
    connection = Connection.objects.get(pk=world.conn_a.pk)

    assert client.client_secret == world.app_b.client_secret
    assert (connection.access_token, connection.refresh_token) == (AT_A, RT_A)
    assert CS_A not in raw_column(OAuthClient, "client_secret", world.app_a.pk)
    assert AT_A not in raw_column(Connection, "access_token", connection.pk)


def test_t71_ciphertexts_differ_and_any_flipped_byte_fails_before_unpickling():
    plaintext = pickle.dumps(AT_A)
    first, second = KEY_RING.encrypt(plaintext), KEY_RING.encrypt(plaintext)
    rng = random.Random(71)  # noqa: S311 - reproducible mutations, not crypto
    outcomes = {"refused": 0, "loaded": 0}

    for _ in range(1000):
        mutated = bytearray(first)
        position = rng.randrange(len(mutated))
        mutated[position] ^= rng.randrange(1, 256)
        try:
            KEY_RING.decrypt_with_index(bytes(mutated))
        except UndecryptableValue:
            outcomes["refused"] += 1
        else:
            outcomes["loaded"] += 1

    assert first != second
    assert KEY_RING.decrypt(first) == KEY_RING.decrypt(second) == plaintext
    assert outcomes == {"refused": 1000, "loaded": 0}


def test_t72_undecryptable_row_shows_a_reconnect_page_and_is_never_resaved(
    client,
    world,
    keys,  # noqa: F811
):
    keys("a-key-that-is-gone")
    world.conn_a.save()  # now stored under a key about to be removed
    before = raw_column(Connection, "access_token", world.conn_a.pk)
    keys(K2)
    client.force_login(world.users["a_admin"])

    response = client.get(reverse("integrations:tenant_home", args=[world.tenant_a.pk]))

    assert response.status_code == 200
    assert "reconnect" in response.content.decode().lower()
    assert raw_column(Connection, "access_token", world.conn_a.pk) == before


def test_t73_rotation_runbook_with_200_rows(keys, two_hundred_rows):  # noqa: F811
    plaintexts = _all_plaintexts()
    under_k1 = _raw_rows()
    keys(K2, K1)
    readable_during = _all_plaintexts() == plaintexts

    first = _rotate()
    keys(K2)
    second = _rotate()

    after = _raw_rows()
    assert readable_during
    assert _all_plaintexts() == plaintexts
    assert len(after) == 200
    assert all(after[key] != under_k1[key] for key in after)
    assert "200" in first
    assert "0 rows changed" in second or " 0 " in f" {second} "


def test_t74_missing_or_blank_key_stops_startup_without_fallback():
    missing = {k: v for k, v in PRODUCTION_ENV.items() if k != "CRYPTOGRAPHY_KEY"}

    results = [
        _run(["manage.py", "check"], missing),
        _run(["manage.py", "check"], {**PRODUCTION_ENV, "CRYPTOGRAPHY_KEY": " "}),
    ]

    for result in results:
        assert result.returncode == 1
        assert "CRYPTOGRAPHY_KEY is not set" in result.stderr


KEY_ASSIGNMENT = re.compile(
    r"(?i)(CRYPTOGRAPHY_KEY|SECRET_KEY)\s*=\s*[\"'][^\"']{16,}[\"']"
)
KEY_MATERIAL = [
    re.compile(r"-----BEGIN (RSA |EC |OPENSSH )?PRIVATE KEY-----"),
    KEY_ASSIGNMENT,
    re.compile(r"pdus\+_[A-Za-z0-9_-]{20,}"),
    re.compile(r"AKIA[0-9A-Z]{16}"),
]
# Test settings and tests assign fixed fake keys; nothing else may.
FAKE_KEYS_ALLOWED = ("portal/settings/test.py", "tests/")


def test_t75_no_key_material_in_tracked_files():
    tracked = subprocess.run(  # noqa: S603
        ["git", "ls-files"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    hits = []
    for name in tracked:
        path = ROOT / name
        if path.suffix in {".png", ".jpg", ".ico", ".woff2"}:
            continue
        try:
            text = path.read_text()
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue
        patterns = KEY_MATERIAL
        if name.startswith(FAKE_KEYS_ALLOWED):
            patterns = [p for p in KEY_MATERIAL if p is not KEY_ASSIGNMENT]
        hits += [(name, p.pattern) for p in patterns if p.search(text)]

    base = (ROOT / "portal/settings/base.py").read_text()
    assert hits == []
    assert 'CRYPTOGRAPHY_KEY = required("CRYPTOGRAPHY_KEY")' in base
    assert 'SECRET_KEY = required("DJANGO_SECRET_KEY")' in base


def test_t76_dumpdata_holds_only_ciphertext_and_loads_back(world):
    out = StringIO()

    call_command("dumpdata", "integrations", stdout=out)
    dump = out.getvalue()
    Connection.objects.all().delete()
    OAuthClient.objects.all().delete()
    fixture = Path(__file__).parent / "_t76_dump.json"
    fixture.write_text(dump)
    try:
        call_command("loaddata", str(fixture), stdout=StringIO())
    finally:
        fixture.unlink()

    assert [canary for canary in CANARIES if canary in dump] == []
    assert json.loads(dump)  # still a valid fixture
    assert Connection.objects.get(pk=world.conn_a.pk).access_token == AT_A
    assert OAuthClient.objects.get(pk=world.app_a.pk).client_secret == CS_A
