import re
from datetime import timedelta
from functools import wraps

import requests
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialApp, SocialToken
from allauth.socialaccount.providers.oauth2.views import (
    OAuth2Adapter,
    OAuth2CallbackView,
    OAuth2LoginView,
)
from django.conf import settings
from django.core.exceptions import MultipleObjectsReturned
from django.http import Http404, HttpResponseNotAllowed
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from integrations.pagerduty import flow, id_token, identity
from integrations.pagerduty.flow import ConnectError, Reason

# PagerDuty's codes are short opaque strings (size undocumented); refuse
# junk (control characters, spaces, absurd lengths) before it travels to
# the token endpoint.
CODE_RE = re.compile(r"[\x21-\x7e]{8,256}")


class PagerDutyOAuth2Adapter(OAuth2Adapter):
    provider_id = flow.PROVIDER_ID
    # PagerDuty wants client_secret in the form body, not HTTP Basic.
    basic_auth = False

    def get_provider(self):
        # Resolved once: the callback consumes the state the app came from.
        if not hasattr(self, "_provider"):
            self._provider = super().get_provider()
        return self._provider

    @property
    def authorize_url(self):
        return f"{settings.PAGERDUTY_IDENTITY_URL}/oauth/authorize"

    @property
    def access_token_url(self):
        return identity.token_url()

    @property
    def profile_url(self):
        return f"{settings.PAGERDUTY_API_URL}/users/me"

    def get_callback_url(self, request, app):
        # The URL registered on the PagerDuty app: the environment's gateway
        # plus /integration-callback, identical on authorize and token calls.
        return app.settings.get("redirect_uri") or super().get_callback_url(
            request, app
        )

    def get_access_token_data(self, request, app, client, pkce_code_verifier=None):
        # identity.py never puts response bodies or tokens into exceptions,
        # unlike allauth's OAuth2Client (SECURITY-TESTS §0.9).
        code = request.GET.get("code", "")
        if not CODE_RE.fullmatch(code) or not pkce_code_verifier:
            raise ConnectError(Reason.CODE_REJECTED)
        try:
            token = identity.authorization_code_token(
                client_id=app.client_id,
                client_secret=app.secret,
                code=code,
                redirect_uri=client.callback_url,
                code_verifier=pkce_code_verifier,
            )
        except identity.TokenEndpointError as exc:
            raise ConnectError(_token_error_reason(exc)) from None
        self.did_fetch_access_token = True
        return token

    def parse_token(self, data):
        token = SocialToken(token=data.access_token, token_secret=data.refresh_token)
        token.expires_at = timezone.now() + timedelta(seconds=data.expires_in)
        return token

    def complete_login(self, request, app, token, **kwargs):
        response = kwargs["response"]
        claims = id_token.verify(response.id_token, client_id=app.client_id)
        user = _users_me(claims.api_url, token.token)
        data = {
            "user": user,
            "identity": claims.__dict__,
            "granted_scope": response.scope,
            "requested_scope": " ".join(app.settings.get("scope", [])),
        }
        return self.get_provider().sociallogin_from_response(request, data)


def _token_error_reason(exc: identity.TokenEndpointError) -> str:
    if exc.kind == "unavailable" or exc.status == 429:
        return Reason.UNAVAILABLE
    if exc.kind == "malformed":
        return Reason.MALFORMED
    if exc.error in ("invalid_client", "unauthorized_client") or exc.status == 401:
        return Reason.CLIENT_REJECTED
    return Reason.CODE_REJECTED


def _users_me(api_url: str, access_token: str) -> dict:
    headers = {
        "Authorization": f"Bearer {access_token}",
        "Accept": "application/vnd.pagerduty+json;version=2",
    }
    try:
        with get_adapter().get_requests_session() as session:
            response = session.get(f"{api_url}/users/me", headers=headers)
            response.raise_for_status()
            user = response.json()["user"]
    except (requests.RequestException, ValueError, KeyError, TypeError):
        raise ConnectError(Reason.PROFILE) from None
    if not isinstance(user, dict) or not isinstance(user.get("id"), str):
        raise ConnectError(Reason.PROFILE)
    return user


class PagerDutyLoginView(OAuth2LoginView):
    def dispatch(self, request, *args, **kwargs):
        # Only the tenant page's Connect button prepares a connect.
        if flow.pending_tenant_id(request) is None:
            raise Http404
        try:
            return super().dispatch(request, *args, **kwargs)
        except (SocialApp.DoesNotExist, MultipleObjectsReturned):
            raise Http404 from None


class PagerDutyCallbackView(OAuth2CallbackView):
    def dispatch(self, request, *args, **kwargs):
        # PagerDuty redirects the browser with a GET; anything else (a HEAD
        # from a link checker, a forged POST) must not consume the state.
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        issuer = request.GET.get("iss")
        if issuer is not None and issuer not in id_token.accepted_issuers():
            # RFC 9207: an authorization response from another issuer is a
            # mix-up attempt; refuse it before any token request.
            from integrations.views.tenant import connect_error_response

            return connect_error_response(request, reason=Reason.PROVIDER_ERROR)
        try:
            return super().dispatch(request, *args, **kwargs)
        except (SocialApp.DoesNotExist, MultipleObjectsReturned):
            # No connect in progress in this browser, or the integration was
            # switched off meanwhile.
            from integrations.views.tenant import connect_error_response

            reason = Reason.NOT_CONFIGURED
            if flow.pending_tenant_id(request) is None:
                reason = Reason.STATE
                flow.audit_state_invalid(request)
            return connect_error_response(request, reason=reason)


def _private(view):
    """Keep the callback's answers out of caches and Referer headers.

    The callback URL carries the authorization code and state.
    """

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        add_never_cache_headers(response)
        response["Referrer-Policy"] = "no-referrer"
        return response

    return wrapped


oauth2_login = PagerDutyLoginView.adapter_view(PagerDutyOAuth2Adapter)
oauth2_callback = _private(PagerDutyCallbackView.adapter_view(PagerDutyOAuth2Adapter))
