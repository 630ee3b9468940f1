"""A staff user enrols an authenticator app on the way to the Django admin."""

import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core.cache import cache

from tests.browser_fixtures import save_screenshot
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def staff(portal_rows, settings):
    settings.PORTAL_REQUIRE_STAFF_MFA = True
    cache.clear()
    yield UserFactory(
        username="admin", password="admin-pass-1", is_staff=True, is_superuser=True
    )
    cache.clear()


def test_staff_enrols_totp_then_reaches_the_admin_with_a_code(page, live_server, staff):
    page.goto(f"{live_server.url}/accounts/login/?next=/admin/")
    page.fill("input[name=login]", "admin")
    page.fill("input[name=password]", "admin-pass-1")
    page.click("#main button[type=submit]")

    # Activating asks for the password once more, then shows the QR code.
    page.wait_for_url(f"{live_server.url}/accounts/reauthenticate/**")
    assert "Staff pages need two-factor authentication" in page.content()
    page.fill("input[name=password]", "admin-pass-1")
    page.click("#main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/accounts/2fa/totp/activate/**")
    assert page.is_visible(".totp-qr svg")
    save_screenshot(page, "mfa-activate")
    secret = page.input_value("#authenticator_secret")
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    page.fill("input[name=code]", code)
    page.click("#main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/accounts/2fa/recovery-codes/")

    # This session signed in with the password only: the admin asks for a
    # code (a recovery code here; the app's code was just used).
    page.goto(f"{live_server.url}/admin/")
    page.wait_for_url(f"{live_server.url}/accounts/2fa/reauthenticate/**")
    codes = RecoveryCodes(Authenticator.objects.get(type="recovery_codes"))
    page.fill("input[name=code]", codes.get_unused_codes()[0])
    page.click("#main button[type=submit]")

    page.wait_for_url(f"{live_server.url}/admin/")
    assert "Site administration" in page.content()
    assert secret not in str(Authenticator.objects.values_list("data", flat=True))
