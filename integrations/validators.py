"""Field validators shared by models and forms; each error carries a code."""

import re
import unicodedata
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from integrations.pagerduty.scopes import ALL_SCOPES, CLASSIC_SCOPES, MINIMUM_SCOPES

# PagerDuty does not document the client ID's format; observed IDs are UUIDs
# or long hex strings. Stay permissive on the alphabet, strict on control
# characters and whitespace, which would travel into the token request.
CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:+-]{7,127}$")
CLIENT_SECRET_RE = re.compile(r"^[\x21-\x7e]{8,512}$")
SUBDOMAIN_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
GRANTED_SCOPES_RE = re.compile(r"^[a-z_:.\-]+( [a-z_:.\-]+)*$")
BIDI_CONTROLS = dict.fromkeys(
    [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C]
)
ZERO_WIDTH = dict.fromkeys([0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF])


def validate_client_id(value: str) -> None:
    if not CLIENT_ID_RE.fullmatch(value):
        raise ValidationError(
            _(
                "Enter the Client ID exactly as PagerDuty shows it: 8 to 128 "
                "letters, digits, '-', '_', '.', ':' or '+', with no spaces."
            ),
            code="invalid_client_id",
        )


def validate_client_secret(value: str) -> None:
    if not CLIENT_SECRET_RE.fullmatch(value):
        raise ValidationError(
            _(
                "Enter the Client Secret exactly as PagerDuty showed it: 8 to "
                "512 printable characters, with no spaces."
            ),
            code="invalid_client_secret",
        )


def validate_subdomain(value: str) -> None:
    if not SUBDOMAIN_RE.fullmatch(value):
        raise ValidationError(
            _(
                "Enter the subdomain only, as in https://<subdomain>.pagerduty"
                ".com: lowercase letters, digits and hyphens."
            ),
            code="invalid_subdomain",
        )


def validate_scopes(scopes) -> None:
    """Check a list of scope names against the seed's table and minimum."""
    scopes = list(scopes)
    unknown = [s for s in scopes if s not in ALL_SCOPES]
    if unknown:
        shown = ", ".join(repr(s) for s in unknown[:5])
        raise ValidationError(
            _("Unknown scope %(scopes)s. Choose from PagerDuty's scope table."),
            params={"scopes": shown},
            code="unknown_scope",
        )
    if len(set(scopes)) != len(scopes):
        raise ValidationError(_("A scope is listed twice."), code="duplicate_scope")
    missing = sorted(MINIMUM_SCOPES - set(scopes))
    if missing:
        raise ValidationError(
            _("The minimum scopes are required; missing: %(missing)s."),
            params={"missing": " ".join(missing)},
            code="missing_minimum_scope",
        )


def validate_scope_string(value: str) -> None:
    """Check a stored space-separated scope string (models call this)."""
    if value != value.strip() or "  " in value:
        raise ValidationError(
            _("Scopes are separated by single spaces."), code="invalid_scopes"
        )
    validate_scopes(value.split(" ") if value else [])


def validate_scope_field(value: str) -> None:
    """Check an app's stored scopes: one Classic scope or a Scoped list.

    Which of the two the app needs is checked with its type
    (`validate_app_scopes`, from the model's clean()).
    """
    if value in CLASSIC_SCOPES:
        return
    validate_scope_string(value)


def validate_app_scopes(app_type: str, value: str) -> None:
    """Check that an app's scopes fit its type (Scoped list or Classic one)."""
    if app_type == "classic":
        if value not in CLASSIC_SCOPES:
            raise ValidationError(
                _("A Classic app has one scope: read or write."),
                code="invalid_classic_scope",
            )
        return
    if value in CLASSIC_SCOPES:
        raise ValidationError(
            _(
                "%(scope)s is a Classic scope; a Scoped app selects scopes per "
                "resource from PagerDuty's table."
            ),
            params={"scope": value},
            code="classic_scope_on_scoped_app",
        )
    validate_scope_string(value)


def validate_granted_scopes(value: str) -> None:
    if value and not GRANTED_SCOPES_RE.fullmatch(value):
        raise ValidationError(
            _("Granted scopes must be space-separated scope names."),
            code="invalid_granted_scopes",
        )


def validate_base_url(value: str) -> None:
    """Accept https URLs, and http only for this machine (local demos)."""
    parts = urlsplit(value)
    local = parts.hostname in {"127.0.0.1", "localhost", "::1"}
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise ValidationError(
            _("Use an https:// URL (http:// is allowed only for localhost)."),
            code="insecure_url",
        )
    if not parts.hostname or parts.username or parts.password:
        raise ValidationError(
            _("Enter a base URL such as https://gateway.example.com."),
            code="invalid_url",
        )
    if parts.query or parts.fragment or value.endswith("/"):
        raise ValidationError(
            _("Enter the base URL without a trailing slash, query or fragment."),
            code="invalid_url",
        )


def clean_display_name(value: str) -> str:
    """Return a display name NFC-normalised, without bidi or zero-width marks."""
    value = unicodedata.normalize("NFC", value)
    return value.translate(BIDI_CONTROLS).translate(ZERO_WIDTH).strip()


def time_zone_names() -> frozenset[str]:
    """Return the IANA time zone names the portal offers (and UTC)."""
    from zoneinfo import available_timezones

    return frozenset(available_timezones()) | {"UTC"}


def validate_time_zone(value: str) -> None:
    if value not in time_zone_names():
        raise ValidationError(
            _("Choose a time zone from the list, such as Europe/Paris or UTC."),
            code="invalid_time_zone",
        )
