"""Show each person's times in the zone they chose (default UTC).

The zone's name is put in the session at sign-in, so a page costs no
query for it; saving the profile updates both. A session from before this
was deployed reads it once.
"""

from datetime import UTC
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

from integrations.selectors import user_time_zone_get

SESSION_TIME_ZONE = "portal_time_zone"


def zone_named(name: str):
    """Return the zone of an IANA name; UTC when the name is unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def remember_time_zone(request, name: str) -> None:
    """Use `name` for this session's pages from now on."""
    request.session[SESSION_TIME_ZONE] = name
    timezone.activate(zone_named(name))


def stamp_time_zone(sender, request, user, **kwargs):
    """On sign-in, keep the person's zone in the new session (user_logged_in).

    Read once here, with the sign-in's own writes, so pages never query it.
    """
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_TIME_ZONE] = user_time_zone_get(user=user)


class UserTimeZoneMiddleware:
    """Activate the signed-in person's time zone for the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            name = request.session.get(SESSION_TIME_ZONE)
            if not isinstance(name, str):
                name = user_time_zone_get(user=user)
                request.session[SESSION_TIME_ZONE] = name
            timezone.activate(zone_named(name))
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
