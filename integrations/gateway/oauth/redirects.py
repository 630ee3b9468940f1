"""Which redirect URIs an MCP client may register (MCP-GATEWAY.md §1.3).

https anywhere; plain http only to a loopback host (the SDK's and the
Inspector's local callbacks, RFC 8252 §7.3); the private-use schemes listed
in MCP_REDIRECT_SCHEMES (Cursor registers cursor://… beside two others).
Never javascript:, data: or any other scheme, never a fragment (RFC 6749
§3.1.2), never credentials in the authority.
"""

import ipaddress
import re
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

MAX_LENGTH = 2000
LOOPBACK_NAMES = frozenset({"localhost"})
_UNSAFE = re.compile(r"[\s\x00-\x1f\x7f<>\"\\^`{|}]")


def is_loopback_host(host: str | None) -> bool:
    """Return whether `host` names this machine (127.0.0.0/8, ::1, localhost)."""
    if not host:
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def private_schemes() -> frozenset[str]:
    return frozenset(scheme.lower() for scheme in settings.MCP_REDIRECT_SCHEMES)


def redirect_uri_problem(uri: str) -> str:
    """Return why `uri` may not be registered, or "" when it may."""
    if not isinstance(uri, str) or not uri:
        return _("A redirect URI must be a non-empty string.")
    if len(uri) > MAX_LENGTH:
        return _("A redirect URI may be at most %(max)s characters.") % {
            "max": MAX_LENGTH
        }
    if _UNSAFE.search(uri):
        return _("A redirect URI may not contain spaces or control characters.")
    if "#" in uri:
        return _("A redirect URI may not contain a fragment.")
    try:
        parts = urlsplit(uri)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return _("The redirect URI is malformed.")
    scheme = parts.scheme.lower()
    if parts.username is not None or parts.password is not None:
        return _("A redirect URI may not carry credentials.")
    if scheme == "https":
        return "" if host else _("An https redirect URI needs a host.")
    if scheme == "http":
        if is_loopback_host(host):
            return ""
        return _(
            "Plain http redirect URIs are allowed for loopback hosts only "
            "(127.0.0.1, [::1], localhost); use https."
        )
    if scheme and scheme in private_schemes():
        return ""
    return _("The redirect URI scheme %(scheme)s is not allowed.") % {
        "scheme": f"{scheme}:" if scheme else "(none)"
    }
