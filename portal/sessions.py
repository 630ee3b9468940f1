import time

from django.conf import settings
from django.contrib.auth import logout

LAST_SEEN = "portal_last_seen"
# Refresh the timestamp at most this often, so most requests write nothing.
RESOLUTION = 60


def stamp_sign_in(sender, request, user, **kwargs):
    """Start the idle clock at sign-in (connected to `user_logged_in`)."""
    if request is not None and hasattr(request, "session"):
        request.session[LAST_SEEN] = int(time.time())


class IdleSessionTimeoutMiddleware:
    """Sign out a session that sat unused longer than SESSION_IDLE_TIMEOUT."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        now = int(time.time())
        last_seen = request.session.get(LAST_SEEN)
        if request.user.is_authenticated and isinstance(last_seen, int):
            if now - last_seen > settings.SESSION_IDLE_TIMEOUT:
                logout(request)
            elif now - last_seen >= RESOLUTION:
                request.session[LAST_SEEN] = now
        return self.get_response(request)
