"""Two-factor authentication: staff enforcement, secrets at rest, rotation."""

import io
import re
import time
from urllib.parse import urlencode

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.urls import reverse

from integrations.crypto import KEY_RING, decrypt_text
from tests.helpers import raw_column

pytestmark = pytest.mark.django_db

ADMIN_PAGES = ["/admin/", "/admin/integrations/connection/", "/admin/auth/user/"]


def totp_code(secret: str) -> str:
    """Return the current code of `secret`, as an authenticator app would."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


@pytest.fixture
def enforced(settings):
    settings.PORTAL_REQUIRE_STAFF_MFA = True
    return settings


@pytest.fixture
def totp_secret(staff_user):
    secret = generate_totp_secret()
    TOTP.activate(staff_user, secret)
    RecoveryCodes.activate(staff_user)
    return secret


def pending_secret(client) -> str:
    """Return the TOTP secret being enrolled (encrypted in the session)."""
    return decrypt_text(client.session["mfa.totp.secret"])


def with_next(url_name: str, path: str) -> str:
    return f"{reverse(url_name)}?{urlencode({'next': path})}"


def reauthenticate(client, password="password"):  # noqa: S107
    return client.post(reverse("account_reauthenticate"), {"password": password})


def sign_in(client, username, password="password"):  # noqa: S107
    return client.post(
        reverse("account_login"), {"login": username, "password": password}
    )


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_staff_without_mfa_is_sent_to_activate_an_authenticator(
    client, staff_user, enforced, path
):
    sign_in(client, "staff")

    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == with_next("mfa_activate_totp", path)
    assert Authenticator.objects.count() == 0


def test_staff_portal_pages_need_mfa_too(client, staff_user, enforced, development):
    sign_in(client, "staff")
    pages = [
        reverse("integrations:integration_list", args=["development"]),
        reverse("integrations:pagerduty_config", args=["development"]),
        reverse("integrations:tenant_list", args=["development"]),
        reverse("integrations:audit_list"),
    ]

    responses = [client.get(page) for page in pages]

    assert {response.status_code for response in responses} == {302}
    assert all(
        response["Location"].startswith(reverse("mfa_activate_totp"))
        for response in responses
    )


def test_redirect_explains_why(client, staff_user, enforced):
    sign_in(client, "staff")

    response = client.get("/admin/", follow=True)

    assert response.redirect_chain[0][0] == with_next("mfa_activate_totp", "/admin/")
    assert "Staff pages need two-factor authentication" in response.content.decode()


def test_login_with_a_totp_code_opens_the_admin(
    client, staff_user, totp_secret, enforced
):
    first = sign_in(client, "staff")
    code = client.post(reverse("mfa_authenticate"), {"code": totp_code(totp_secret)})

    response = client.get("/admin/integrations/connection/")

    assert first["Location"] == reverse("mfa_authenticate")
    assert code.status_code == 302
    assert response.status_code == 200


def test_password_only_session_from_before_enrolment_cannot_bypass(
    client, staff_user, enforced
):
    sign_in(client, "staff")
    secret = generate_totp_secret()
    TOTP.activate(staff_user, secret)  # enrolled in another session

    refused = client.get("/admin/")
    client.post(
        f"{reverse('mfa_reauthenticate')}?next=/admin/",
        {"code": totp_code(secret)},
    )
    allowed = client.get("/admin/")

    assert refused.status_code == 302
    assert refused["Location"] == with_next("mfa_reauthenticate", "/admin/")
    assert allowed.status_code == 200


def test_force_login_without_mfa_is_refused(client, staff_user, enforced):
    client.force_login(staff_user)

    response = client.get("/admin/")

    assert response.status_code == 302


def test_tenant_users_are_not_asked_for_mfa(client, tenant_admin, tenant, enforced):
    sign_in(client, "alice")

    response = client.get(reverse("integrations:tenant_home", args=[tenant.pk]))

    assert response.status_code == 200
    assert Authenticator.objects.count() == 0


def test_development_profile_keeps_the_demo_admin_usable(client, staff_user, settings):
    settings.PORTAL_REQUIRE_STAFF_MFA = False
    sign_in(client, "staff")

    response = client.get("/admin/")

    assert response.status_code == 200


def test_activation_page_renders_the_qr_inline_and_is_not_cached(
    client, staff_user, enforced
):
    sign_in(client, "staff")
    reauthenticate(client)

    response = client.get(reverse("mfa_activate_totp"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in html
    assert "data:image" not in html
    assert "no-store" in response["Cache-Control"]


def test_enrolling_in_the_browser_flow_stores_encrypted_secrets(
    client, staff_user, enforced
):
    sign_in(client, "staff")
    reauthenticate(client)
    client.get(reverse("mfa_activate_totp"))
    secret = pending_secret(client)

    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})

    totp = Authenticator.objects.get(user=staff_user, type="totp")
    codes = Authenticator.objects.get(user=staff_user, type="recovery_codes")
    assert response.status_code == 302
    assert secret not in raw_column(Authenticator, "data", totp.pk)
    assert totp.data["secret"].startswith("keyring:")
    assert codes.data["seed"].startswith("keyring:")
    assert "mfa.totp.secret" not in client.session


def test_the_secret_being_enrolled_is_encrypted_in_the_stored_session(
    client, staff_user, enforced
):
    sign_in(client, "staff")
    reauthenticate(client)

    page = client.get(reverse("mfa_activate_totp"))

    stored = Session.objects.get().session_data
    secret = pending_secret(client)
    assert secret in page.content.decode()  # shown once, to its owner
    assert secret not in str(Session.objects.get().get_decoded())
    assert secret not in stored


def test_secrets_are_encrypted_at_rest_and_still_verify(staff_user, totp_secret):
    totp = Authenticator.objects.get(user=staff_user, type="totp")
    codes = RecoveryCodes(Authenticator.objects.get(type="recovery_codes"))

    stored = raw_column(Authenticator, "data", totp.pk)

    assert totp_secret not in stored
    assert totp.wrap().validate_code(totp_code(totp_secret))
    assert codes.validate_code(codes.get_unused_codes()[0])
    for code in codes.get_unused_codes():
        assert code not in raw_column(Authenticator, "data", codes.instance.pk)


def test_an_undecryptable_secret_fails_closed(staff_user, totp_secret, settings):
    settings.FIELD_ENCRYPTION_KEYS = ["another-key-entirely"]
    KEY_RING.reset()
    try:
        totp = Authenticator.objects.get(user=staff_user, type="totp").wrap()

        assert not totp.validate_code(totp_code(totp_secret))
    finally:
        KEY_RING.reset()


def test_rotation_re_encrypts_mfa_secrets(staff_user, totp_secret, settings):
    before = Authenticator.objects.get(type="totp").data["secret"]
    settings.FIELD_ENCRYPTION_KEYS = ["the-new-key", *settings.FIELD_ENCRYPTION_KEYS]
    KEY_RING.reset()
    out = io.StringIO()
    try:
        call_command("rotate_encryption_keys", stdout=out)
        settings.FIELD_ENCRYPTION_KEYS = ["the-new-key"]
        KEY_RING.reset()
        totp = Authenticator.objects.get(type="totp")

        assert totp.data["secret"] != before
        assert out.getvalue().startswith("Re-encrypted 2 rows;")
        assert totp.wrap().validate_code(totp_code(totp_secret))
    finally:
        KEY_RING.reset()


def test_admin_never_shows_or_edits_authenticator_data(
    admin_client, staff_user, totp_secret
):
    totp = Authenticator.objects.get(type="totp")

    listing = admin_client.get(reverse("admin:mfa_authenticator_changelist"))
    detail = admin_client.get(reverse("admin:mfa_authenticator_change", args=[totp.pk]))

    for response in (listing, detail):
        assert response.status_code == 200
        html = response.content.decode()
        assert totp.data["secret"] not in html
        assert totp_secret not in html
    assert 'name="data"' not in detail.content.decode()


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\b(src=|type=\"application/json\"))[^>]*>")


def test_mfa_pages_keep_to_the_strict_csp(client, staff_user, enforced):
    sign_in(client, "staff")
    reauthenticate(client)
    activate = client.get(reverse("mfa_activate_totp"))
    secret = pending_secret(client)
    client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    pages = [
        activate,
        client.get(reverse("mfa_index")),
        client.get(reverse("mfa_view_recovery_codes")),
        client.get(reverse("mfa_reauthenticate")),
    ]
    client.post(reverse("account_logout"))
    sign_in(client, "staff")
    pages.append(client.get(reverse("mfa_authenticate")))

    for response in pages:
        html = response.content.decode()
        assert response.status_code == 200, response.request["PATH_INFO"]
        assert 'class="app' in html or "entrance" in html  # the portal's layout
        assert " style=" not in html
        assert not INLINE_SCRIPT.search(html)
        assert "data:image" not in html


def test_the_admin_login_form_cannot_skip_the_second_factor(
    client, staff_user, totp_secret
):
    response = client.post(
        reverse("admin:login"), {"username": "staff", "password": "password"}
    )

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session
