import logging

import pytest

from portal.observability import RedactingFormatter, RequestIdFilter, redact

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("line", "leaked"),
    [
        ("token pdus+_0XBPWQQ_b2b2060b-aa issued", "pdus+_0XBPWQQ_b2b2060b-aa"),
        ("POST body grant_type=x&refresh_token=RT-123&client_id=c", "RT-123"),
        ('{"access_token": "AT-456", "scope": "openid"}', "AT-456"),
        ("GET /integration-callback?code=CODE-789&state=s", "CODE-789"),
        ("Authorization: Bearer AT-999", "AT-999"),
        ("client_secret=CS-000", "CS-000"),
    ],
)
def test_redact_masks_token_shaped_values(line, leaked):
    assert leaked not in redact(line)
    assert "[redacted]" in redact(line)


def test_log_lines_carry_the_request_id_and_stay_on_one_line():
    formatter = RedactingFormatter("%(request_id)s %(message)s")
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "a\nb", (), None)
    RequestIdFilter().filter(record)

    assert formatter.format(record) == "- a | b"


def test_each_response_has_a_request_id(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]

    assert len(first) == 32
    assert first != second


def test_a_sane_incoming_request_id_is_kept_and_a_hostile_one_replaced(client):
    kept = client.get("/healthz", headers={"X-Request-ID": "lb-1234abcd"})
    replaced = client.get("/healthz", headers={"X-Request-ID": "x\r\nSet-Cookie: a=b"})

    assert kept["X-Request-ID"] == "lb-1234abcd"
    assert "Set-Cookie" not in replaced["X-Request-ID"]
