"""Two-factor authentication (allauth.mfa): secrets at rest and staff pages.

allauth keeps TOTP secrets and recovery-code seeds in `Authenticator.data`
(JSON); the adapter encrypts them with the portal's key ring, so they are
covered by `rotate_encryption_keys` like every other stored secret. Staff
sessions reach the Django admin and the staff pages only after a second
factor was verified in that same session (SECURITY-TESTS T84).
"""

import logging
from urllib.parse import urlencode

from allauth.account.internal.flows.login import get_authentication_records
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    SECRET_SESSION_KEY as TOTP_SECRET_SESSION_KEY,
)
from allauth.mfa.totp.internal.auth import generate_totp_secret
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from integrations.crypto import (
    UndecryptableValue,
    decrypt_text,
    encrypt_text,
    reencrypt_text,
)

logger = logging.getLogger(__name__)

# Keys of Authenticator.data that hold secrets (allauth.mfa 65.x).
SECRET_KEYS = ("secret", "seed")
SECRET_LIST_KEYS = ("migrated_codes",)


class MFAAdapter(DefaultMFAAdapter):
    def encrypt(self, text: str) -> str:
        """Return a TOTP secret or recovery seed encrypted with the key ring."""
        return encrypt_text(text)

    def decrypt(self, encrypted_text: str) -> str:
        """Return the plaintext; a value no key opens never verifies a code.

        A fresh random secret stands in, so the sign-in fails closed with
        "Incorrect code" instead of a server error; staff can delete the
        authenticator in the admin so its owner enrols again.
        """
        try:
            return decrypt_text(encrypted_text)
        except UndecryptableValue:
            logger.error(
                "An MFA secret cannot be decrypted with any configured key; "
                "restore the key in CRYPTOGRAPHY_KEY_FALLBACKS or reset the "
                "user's two-factor authentication."
            )
            return generate_totp_secret()


def authenticator_reencrypt(*, authenticator: Authenticator, save: bool = True) -> bool:
    """Re-encrypt an authenticator's secrets under the newest key.

    Return whether anything was (or, with `save=False`, would be) changed;
    raise UndecryptableValue when a secret cannot be opened, leaving the row
    as it is.
    """
    data = dict(authenticator.data)
    changed = False
    for key in SECRET_KEYS:
        if key in data:
            fresh = reencrypt_text(data[key])
            if fresh is not None:
                data[key], changed = fresh, True
    for key in SECRET_LIST_KEYS:
        if key in data:
            values = [reencrypt_text(value) for value in data[key]]
            if any(value is not None for value in values):
                data[key] = [
                    fresh if fresh is not None else old
                    for fresh, old in zip(values, data[key], strict=True)
                ]
                changed = True
    if changed and save:
        authenticator.data = data
        authenticator.save(update_fields=["data"])
    return changed


def staff_url_names() -> frozenset[str]:
    """Return the `integrations:` URL names of the staff pages."""
    from integrations.urls import admin_urlpatterns

    return frozenset(f"integrations:{pattern.name}" for pattern in admin_urlpatterns)


def session_has_mfa(request) -> bool:
    """Return whether a second factor was verified in this very session.

    A login or reauthentication with a code records it; having an
    authenticator is not enough, so a session signed in with the password
    alone stays limited after its user enrols elsewhere.
    """
    records = get_authentication_records(request, request.user)
    return any(record.get("method") == "mfa" for record in records)


class StaffMFAMiddleware:
    """Send staff without a verified second factor away from staff pages.

    Covers the Django admin (except its logout) and the portal's staff
    pages when PORTAL_REQUIRE_STAFF_MFA is on; tenant pages are not
    affected. allauth's own MFA pages get `Cache-Control: no-store`
    because they show the TOTP secret and the recovery codes.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if match is not None and (match.url_name or "").startswith("mfa_"):
            add_never_cache_headers(response)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not settings.PORTAL_REQUIRE_STAFF_MFA:
            return None
        user = request.user
        if not (user.is_authenticated and user.is_staff):
            return None
        if not _is_staff_page(request.resolver_match) or session_has_mfa(request):
            return None
        if is_mfa_enabled(user):
            target = reverse("mfa_reauthenticate")
            messages.info(
                request,
                _("Staff pages need your authenticator code for this session."),
            )
        else:
            target = reverse("mfa_activate_totp")
            messages.warning(
                request,
                _(
                    "Staff pages need two-factor authentication. Set up an "
                    "authenticator app and save your recovery codes, then "
                    "open the page again and enter a code."
                ),
            )
        query = urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})
        return HttpResponseRedirect(f"{target}?{query}")


class PendingTOTPSecretMiddleware:
    """Keep the TOTP secret being enrolled encrypted in the stored session.

    allauth holds it in the session between showing the QR code and the
    first code; sessions live in the database, so it is decrypted for the
    request and encrypted again before the session is saved.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = request.session
        stored = session.get(TOTP_SECRET_SESSION_KEY)
        if stored is not None:
            try:
                session[TOTP_SECRET_SESSION_KEY] = decrypt_text(stored)
            except UndecryptableValue:
                # Enrolment starts over with a fresh secret.
                del session[TOTP_SECRET_SESSION_KEY]
        response = self.get_response(request)
        secret = session.get(TOTP_SECRET_SESSION_KEY)
        if secret is not None:
            session[TOTP_SECRET_SESSION_KEY] = encrypt_text(secret)
        return response


def _is_staff_page(match) -> bool:
    if match is None:
        return False
    if match.app_name == "admin":
        return match.url_name != "logout"
    return match.view_name in staff_url_names()
