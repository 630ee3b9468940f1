import pytest
from django.core.management import CommandError, call_command
from django.db.transaction import atomic

from integrations.crypto import KEY_RING, UNDECRYPTABLE, UndecryptableValue
from integrations.models import Connection, OAuthClient
from tests.factories import OAuthClientFactory, TenantFactory
from tests.helpers import raw_column

pytestmark = pytest.mark.django_db

K1 = "first-field-encryption-key"
K2 = "second-field-encryption-key"


@pytest.fixture
def keys(settings):
    """Set the key ring (newest first) for the rest of the test."""

    def use(*ring):
        settings.FIELD_ENCRYPTION_KEYS = list(ring)
        KEY_RING.reset()

    yield use
    KEY_RING.reset()


@pytest.fixture
def two_hundred_rows(keys, development):
    keys(K1)
    tenants = [TenantFactory(environment=development) for _ in range(10)]
    for index, tenant in enumerate(tenants):
        OAuthClientFactory(
            environment=development, tenant=tenant, client_secret=f"secret-{index:04d}"
        )
    for index in range(190):
        Connection.objects.create(
            tenant=tenants[index % 10],
            status=Connection.Status.REVOKED,
            access_token=f"access-{index:04d}",
            refresh_token=f"refresh-{index:04d}",
        )


def _raw_rows():
    return {
        **{
            ("client", pk): raw_column(OAuthClient, "client_secret", pk)
            for pk in OAuthClient.objects.values_list("pk", flat=True)
        },
        **{
            ("connection", pk): raw_column(Connection, "access_token", pk)
            + raw_column(Connection, "refresh_token", pk)
            for pk in Connection.objects.values_list("pk", flat=True)
        },
    }


def _all_plaintexts():
    secrets = sorted(OAuthClient.objects.values_list("client_secret", flat=True))
    tokens = sorted(Connection.objects.values_list("access_token", "refresh_token"))
    return secrets, tokens


def _rotate(**options):
    from io import StringIO

    out = StringIO()
    call_command("rotate_encryption_keys", stdout=out, **options)
    return out.getvalue().strip()


def test_same_plaintext_encrypts_differently_each_time():
    assert KEY_RING.encrypt(b"same") != KEY_RING.encrypt(b"same")


def test_rotation_rewrites_all_200_rows_under_the_new_key(keys, two_hundred_rows):
    before_plain, before_raw = _all_plaintexts(), _raw_rows()

    keys(K2, K1)
    assert _all_plaintexts() == before_plain
    report = _rotate()
    keys(K2)

    assert report == (
        "Re-encrypted 200 rows; 0 already under the current key; "
        "0 could not be decrypted."
    )
    assert _all_plaintexts() == before_plain
    after_raw = _raw_rows()
    assert all(after_raw[key] != before_raw[key] for key in before_raw)


def test_second_run_is_a_no_op(keys, two_hundred_rows):
    keys(K2, K1)
    _rotate()

    report = _rotate()

    assert report.startswith("Re-encrypted 0 rows; 200 already under the current key")


def test_interrupted_rotation_completes_on_the_next_run(keys, two_hundred_rows):
    before_plain = _all_plaintexts()
    keys(K2, K1)

    first = _rotate(limit=100)
    second = _rotate()
    keys(K2)

    assert first.startswith("Re-encrypted 100 rows")
    assert second.startswith("Re-encrypted 100 rows; 100 already under the current key")
    assert _all_plaintexts() == before_plain


def test_dry_run_changes_nothing(keys, two_hundred_rows):
    before_raw = _raw_rows()
    keys(K2, K1)

    report = _rotate(dry_run=True)

    assert report.startswith("Would re-encrypt 200 rows")
    assert _raw_rows() == before_raw


def test_rows_under_an_unknown_key_are_reported_and_left_untouched(
    keys, two_hundred_rows
):
    before_raw = _raw_rows()
    keys(K2)

    with pytest.raises(CommandError, match="200 rows could not be decrypted"):
        _rotate()

    assert _raw_rows() == before_raw


def test_rotating_secret_key_alone_leaves_stored_secrets_readable(
    keys, two_hundred_rows, settings
):
    before_plain = _all_plaintexts()

    settings.SECRET_KEY = "a-completely-new-django-secret-key-0123456789abcdef"
    settings.SECRET_KEY_FALLBACKS = []

    assert _all_plaintexts() == before_plain


def test_flipped_bits_are_rejected_before_unpickling(keys, pagerduty_client):
    keys(K1)
    stored = bytearray(KEY_RING.encrypt(b"payload"))

    for position in range(0, len(stored), 7):
        mutated = bytearray(stored)
        mutated[position] ^= 0x01
        with pytest.raises(UndecryptableValue, match="no configured encryption key"):
            KEY_RING.decrypt_with_index(bytes(mutated))


def test_a_row_under_a_removed_key_loads_as_unreadable_and_cannot_be_resaved(
    keys, tenant
):
    keys(K1)
    connection = Connection.objects.create(
        tenant=tenant, access_token="access-k1", refresh_token="refresh-k1"
    )
    before = raw_column(Connection, "access_token", connection.pk)
    keys(K2)

    loaded = Connection.objects.get(pk=connection.pk)

    assert loaded.access_token is UNDECRYPTABLE
    assert loaded.credentials_unreadable
    assert not loaded.access_token
    with pytest.raises(UndecryptableValue, match="refusing to store"), atomic():
        loaded.save()
    assert raw_column(Connection, "access_token", connection.pk) == before


def test_unreadable_tokens_flag_the_connection_for_reconnect(keys, tenant):
    from integrations.services.tokens import (
        ConnectionNeedsReconnect,
        connection_get_access_token,
    )

    keys(K1)
    connection = Connection.objects.create(
        tenant=tenant, access_token="access-k1", refresh_token="refresh-k1"
    )
    before = raw_column(Connection, "refresh_token", connection.pk)
    keys(K2)

    with pytest.raises(ConnectionNeedsReconnect, match="cannot be decrypted"):
        connection_get_access_token(connection=Connection.objects.get(pk=connection.pk))

    connection.refresh_from_db(fields=["status", "last_error"])
    assert connection.status == Connection.Status.NEEDS_RECONNECT
    assert "cannot be decrypted" in connection.last_error
    assert raw_column(Connection, "refresh_token", connection.pk) == before


def test_verifying_an_unreadable_client_secret_asks_to_replace_it(
    keys, pagerduty_client, staff_user
):
    from integrations.services.oauth_clients import oauth_client_verify

    keys(K1)
    pagerduty_client.save()
    keys(K2)

    result = oauth_client_verify(
        client=OAuthClient.objects.get(pk=pagerduty_client.pk), actor=staff_user
    )

    assert result.outcome == "unreadable"
    assert "Replace the secret" in result.message
