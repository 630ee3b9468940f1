"""The authorization server's pages and endpoints (django-oauth-toolkit).

ConsentView is DOT's authorization endpoint with the portal's consent page:
the client, where it sends the person back, what it may do, the tenant it
may do it in, and a read-only choice. RegistrationView is DOT's open
registration (RFC 7591) behind the gateway's guards.
"""

import json
import logging
from urllib.parse import urlencode, urlsplit

from allauth.account.adapter import get_adapter as get_account_adapter
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.views import AuthorizationView
from oauth2_provider.views.dynamic_client_registration import (
    DynamicClientRegistrationManagementView,
    DynamicClientRegistrationView,
)
from oauthlib.oauth2.rfc6749 import errors

from integrations.gateway import conf
from integrations.gateway.models import Client
from integrations.gateway.oauth.forms import ConsentForm
from integrations.gateway.oauth.redirects import redirect_uri_problem
from integrations.gateway.selectors import (
    membership_list_elsewhere,
    tenant_list_for_consent,
)
from integrations.gateway.tools.registry import capability_summary
from integrations.ratelimit import rate_limit_allows
from integrations.selectors import connection_get_live

logger = logging.getLogger(__name__)

MAX_REGISTRATION_BYTES = 16 * 1024
REGISTRABLE_GRANT_TYPES = frozenset({"authorization_code", "refresh_token"})


def granted_scopes(requested: str, *, read_only: bool) -> str:
    """Return the portal scopes a consent grants: read, and write unless kept read only.

    A client asking for neither scope asks for the defaults (both).
    """
    wanted = set((requested or "").split()) & set(conf.ALL_SCOPES)
    if not wanted:
        wanted = set(conf.ALL_SCOPES)
    if conf.SCOPE_WRITE in wanted and not read_only:
        return " ".join(conf.ALL_SCOPES)
    return conf.SCOPE_READ


def _same_resource(value: str) -> bool:
    return value.rstrip("/") == conf.resource_url()


def _form_action_source(redirect_uri: str) -> str:
    parts = urlsplit(redirect_uri or "")
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return f"{parts.scheme}:" if parts.scheme else ""


def _invalid(error: str, description: str, credentials: dict) -> OAuthToolkitError:
    """Return an error sent back to the (already validated) redirect URI."""
    error = errors.CustomOAuth2Error(
        error=error, description=description, state=credentials.get("state")
    )
    error.redirect_uri = credentials.get("redirect_uri")
    return OAuthToolkitError(error=error)


@method_decorator(never_cache, name="dispatch")
class ConsentView(AuthorizationView):
    """Authorize an MCP client for one of the signed-in user's tenants."""

    template_name = "gateway/consent.html"
    form_class = ConsentForm

    def tenants(self):
        if not hasattr(self, "_tenants"):
            self._tenants = tenant_list_for_consent(user=self.request.user)
        return self._tenants

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "tenants": self.tenants()}

    def validate_authorization_request(self, request):
        scopes, credentials = super().validate_authorization_request(request)
        if credentials.get("code_challenge_method") != "S256":
            raise _invalid(
                "invalid_request",
                "PKCE with code_challenge_method=S256 is required.",
                credentials,
            )
        resources = request.GET.getlist("resource")
        if any(not _same_resource(value) for value in resources):
            raise _invalid(
                "invalid_target",
                f"This server issues tokens for {conf.resource_url()} only.",
                credentials,
            )
        return scopes, credentials

    def error_response(self, error, application, **kwargs):
        if application is None:
            # DOT falls back to the global schemes, which leave out the
            # loopback http a client may use; the redirect URI of a
            # redirected error was already checked against the client's.
            client_id = self.request.GET.get("client_id") or self.request.POST.get(
                "client_id", ""
            )
            application = Client.objects.filter(client_id=client_id[:255]).first()
        response = super().error_response(error, application, **kwargs)
        location = response.get("Location", "")
        if location and "iss=" not in urlsplit(location).query:
            # RFC 9207: error responses carry the issuer too.
            separator = "&" if "?" in location else "?"
            response["Location"] = (
                f"{location}{separator}{urlencode({'iss': conf.issuer()})}"
            )
        return response

    def form_valid(self, form):
        tenant = form.cleaned_data.get("tenant")
        if form.cleaned_data.get("allow"):
            connection = connection_get_live(tenant=tenant)
            if connection is None or not connection.is_usable:
                return render(
                    self.request,
                    "gateway/consent_not_connected.html",
                    {"tenant": tenant, "connection": connection},
                    status=409,
                )
        self._consent = form.cleaned_data
        return super().form_valid(form)

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response

    def create_authorization_response(self, request, scopes, credentials, allow):
        if allow:
            consent = self._consent
            resources = credentials.get("resource") or []
            if any(not _same_resource(value) for value in resources):
                raise _invalid(
                    "invalid_target",
                    f"This server issues tokens for {conf.resource_url()} only.",
                    credentials,
                )
            # Bound to /mcp even when the client sent no resource: a token
            # without one would be valid everywhere (RFC 8707).
            credentials["resource"] = [conf.resource_url()]
            credentials["gateway_tenant_id"] = consent["tenant"].pk
            scopes = granted_scopes(scopes, read_only=consent["read_only"])
        return super().create_authorization_response(
            request, scopes, credentials, allow
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if "application" not in context and self.request.method == "POST":
            # A re-shown form (a choice was refused): the request's client.
            context["application"] = Client.objects.filter(
                client_id=self.request.POST.get("client_id", "")[:255]
            ).first()
            context["redirect_uri"] = self.request.POST.get("redirect_uri", "")
            kwargs["scopes"] = self.request.POST.get("scope", "").split()
        tenants = list(self.tenants())
        connections = {t.pk: connection_get_live(tenant=t) for t in tenants}
        context.update(
            {
                "tenant_rows": [
                    {
                        "tenant": tenant,
                        "connected": bool(
                            connections[tenant.pk] and connections[tenant.pk].is_usable
                        ),
                    }
                    for tenant in tenants
                ],
                "elsewhere": membership_list_elsewhere(user=self.request.user),
                "resource_url": conf.resource_url(),
                "capabilities": capability_summary(),
                "write_requested": conf.SCOPE_WRITE
                in granted_scopes(
                    " ".join(kwargs.get("scopes") or []), read_only=False
                ),
            }
        )
        return context

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        redirect_uri = self.oauth2_data.get("redirect_uri") or self.request.POST.get(
            "redirect_uri", ""
        )
        source = _form_action_source(redirect_uri)
        if source:
            # The consent form's POST is answered by a redirect to the
            # client, and browsers apply form-action to that redirect too.
            response._csp_update = {"form-action": [source]}
        return response


def client_address(request) -> str:
    """Return the address the login limits count (honours the proxy settings)."""
    try:
        return get_account_adapter(request).get_client_ip(request)
    except PermissionDenied:
        return "unknown"


def _registration_error(error: str, description: str, status: int = 400):
    response = JsonResponse(
        {"error": error, "error_description": description}, status=status
    )
    response["Cache-Control"] = "no-store"
    return response


def registration_problem(data) -> tuple[str, str] | None:
    """Return (error, description) when a registration body breaks policy."""
    if not isinstance(data, dict):
        return None  # DOT answers malformed bodies itself
    grant_types = data.get("grant_types", ["authorization_code"])
    if (
        isinstance(grant_types, list)
        and not set(grant_types) <= REGISTRABLE_GRANT_TYPES
    ):
        return (
            "invalid_client_metadata",
            "grant_types may contain only authorization_code and refresh_token.",
        )
    response_types = data.get("response_types", ["code"])
    if isinstance(response_types, list) and set(response_types) - {"code"}:
        return ("invalid_client_metadata", "response_types may contain only code.")
    uris = data.get("redirect_uris")
    if isinstance(uris, list):
        for uri in uris:
            problem = redirect_uri_problem(uri)
            if problem:
                return ("invalid_redirect_uri", problem)
    return None


@method_decorator(never_cache, name="dispatch")
class RegistrationView(DynamicClientRegistrationView):
    """Open client registration (RFC 7591) with the gateway's guards.

    Anonymous, as MCP clients register; per address at most
    MCP_REGISTRATION_RATE_LIMIT registrations (429 beyond); redirect URIs
    by the gateway's policy; bodies of at most 16 KB.
    """

    def post(self, request, *args, **kwargs):
        source = client_address(request)
        limit, window = settings.MCP_REGISTRATION_RATE_LIMIT
        if not rate_limit_allows(
            key=f"mcp-register:{source}", limit=limit, window=window
        ):
            logger.warning("Client registrations from %s over the limit", source)
            response = _registration_error(
                "invalid_request",
                _("Too many registrations from this address; try again later."),
                status=429,
            )
            response["Retry-After"] = str(window)
            return response
        if len(request.body) > MAX_REGISTRATION_BYTES:
            return _registration_error(
                "invalid_client_metadata", "The registration body is too large.", 413
            )
        try:
            data = json.loads(request.body)
        except ValueError:
            data = None
        problem = registration_problem(data)
        if problem:
            return _registration_error(*problem)
        response = super().post(request, *args, **kwargs)
        if response.status_code == 201:
            client_id = json.loads(response.content)["client_id"]
            Client.objects.filter(client_id=client_id).update(registered_from=source)
            logger.info("MCP client %s registered from %s", client_id, source)
        response["Cache-Control"] = "no-store"
        return response


@method_decorator(never_cache, name="dispatch")
class RegistrationManagementView(DynamicClientRegistrationManagementView):
    """RFC 7592 read, update and delete, with the same redirect URI policy."""

    def put(self, request, *args, **kwargs):
        try:
            data = json.loads(request.body)
        except ValueError:
            data = None
        problem = registration_problem(data)
        if problem:
            return _registration_error(*problem)
        return super().put(request, *args, **kwargs)
