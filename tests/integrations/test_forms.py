import pytest

from integrations.forms import OAuthClientForm
from tests.factories import CLIENT_SECRET

pytestmark = pytest.mark.django_db

VALID = {
    "client_id": "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
    "new_client_secret": "pd-secret-9f8e7d6c",
    "scopes": ["incidents.read", "incidents.write", "services.read"],
    "region": "us",
    "subdomain": "acme",
    "enabled": "on",
}


def _form(data, instance=None):
    return OAuthClientForm(data=data, instance=instance)


def test_valid_form_stores_scopes_in_pagerduty_order(development):
    data = {**VALID, "scopes": ["services.read", "incidents.write", "incidents.read"]}
    form = _form(data)

    assert form.is_valid(), form.errors
    assert form.cleaned_data["scopes"] == "incidents.read incidents.write services.read"


def test_missing_minimum_scope_names_the_missing_scopes(development):
    form = _form({**VALID, "scopes": ["incidents.read", "schedules.read"]})

    assert not form.is_valid()
    assert form.errors["scopes"] == [
        "The minimum scopes are required; missing: incidents.write services.read."
    ]


@pytest.mark.parametrize(
    "bad",
    [
        "admin.write",
        "Incidents.Read",
        "incidents.read,services.read",
        "read&redirect_uri=x",
    ],
)
def test_unknown_scope_is_rejected(development, bad):
    form = _form({**VALID, "scopes": [*VALID["scopes"], bad]})

    assert not form.is_valid()
    assert "is not one of the available choices" in form.errors["scopes"][0]


def test_no_scope_at_all_is_rejected(development):
    form = _form({**VALID, "scopes": []})

    assert not form.is_valid()
    assert form.errors["scopes"] == ["This field is required."]


@pytest.mark.parametrize(
    "client_id",
    [
        "",
        "   ",
        "x" * 10000,
        "abc\x00defghij",
        "abcdefgh\r\nX-Injected: 1",
        "abc\u202edefghij",
        "abc\u200bdefghij",
        "аbcdefghij",  # Cyrillic a
        "' OR 1=1 --",
        "<script>alert(1)</script>",
    ],
)
def test_hostile_client_ids_get_a_field_error(development, client_id):
    form = _form({**VALID, "client_id": client_id})

    assert not form.is_valid()
    assert "client_id" in form.errors


def test_client_id_surrounding_spaces_are_stripped(development):
    form = _form({**VALID, "client_id": "  0b1c2d3e-4f50  "})

    assert form.is_valid(), form.errors
    assert form.cleaned_data["client_id"] == "0b1c2d3e-4f50"


def test_secret_is_required_when_none_is_stored(development):
    form = _form({**VALID, "new_client_secret": ""})

    assert not form.is_valid()
    assert form.errors["new_client_secret"] == [
        "Enter the Client Secret PagerDuty showed once."
    ]


def test_empty_secret_keeps_the_stored_one(pagerduty_client):
    form = _form({**VALID, "new_client_secret": ""}, instance=pagerduty_client)

    assert form.is_valid(), form.errors
    assert form.save().client_secret == CLIENT_SECRET


def test_secret_with_spaces_inside_is_rejected(development):
    form = _form({**VALID, "new_client_secret": "abc def ghi"})

    assert not form.is_valid()
    assert "new_client_secret" in form.errors


@pytest.mark.parametrize(
    "subdomain", ["acme.pagerduty.com", "-acme", "ac me", "https://acme"]
)
def test_bad_subdomain_is_rejected(development, subdomain):
    form = _form({**VALID, "subdomain": subdomain})

    assert not form.is_valid()
    assert "subdomain" in form.errors


def test_subdomain_is_lowercased(development):
    form = _form({**VALID, "subdomain": "Acme"})

    assert form.is_valid(), form.errors
    assert form.cleaned_data["subdomain"] == "acme"


def test_region_must_be_us_or_eu(development):
    form = _form({**VALID, "region": "ap"})

    assert not form.is_valid()
    assert "region" in form.errors


def test_rendered_form_never_contains_the_secret(pagerduty_client):
    html = str(_form(None, instance=pagerduty_client))

    assert CLIENT_SECRET not in html
