import secrets

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.providers.base.constants import AuthError
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from integrations.pagerduty import flow
from integrations.selectors import (
    membership_get_for_user,
    oauth_client_for_connect,
    tenant_admin_membership,
)
from integrations.services.connections import (
    connection_save_from_connect,
    link_save_from_connect,
)
from integrations.views.tenant import connect_error_response
from portal.redirects import has_hidden_characters


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        """Return whether open sign-up is allowed (off unless configured)."""
        return settings.ACCOUNT_ALLOW_SIGNUP

    def is_safe_url(self, url):
        """Return whether `url` may be redirected to; malformed means no.

        allauth's check lets urlsplit's ValueError (e.g. `http://[::1`)
        escape as a 500 on the login and logout pages.
        """
        if has_hidden_characters(url):
            return False
        try:
            return super().is_safe_url(url)
        except ValueError:
            return False


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """PagerDuty is connected per tenant; allauth only runs the OAuth dance."""

    def list_apps(self, request, provider=None, client_id=None):
        """Return allauth's apps plus the pending tenant's PagerDuty app.

        The app is an unsaved SocialApp built from OAuthClient for the tenant
        being connected (server-side state), so exactly one is visible.
        """
        apps = super().list_apps(request, provider=provider, client_id=client_id)
        if provider not in (None, flow.PROVIDER_ID):
            return apps
        client = oauth_client_for_connect(tenant_id=flow.pending_tenant_id(request))
        if client is not None and client_id in (None, client.client_id):
            apps.append(client.as_social_app())
        return apps

    def generate_state_param(self, state: dict) -> str:
        # 256 bits; allauth's default 16 characters is ~95 bits, below
        # RFC 6749 §10.10's 2^-128 guessing bound.
        return secrets.token_urlsafe(32)

    def pre_social_login(self, request, sociallogin):
        """Store a completed PagerDuty connect in the tenant's Connection."""
        if sociallogin.account.provider != flow.PROVIDER_ID:
            return
        state = sociallogin.state or {}
        data = state.get("data") or {}
        tenant_id = data.get("tenant_id")
        linking = data.get("purpose") == flow.PURPOSE_LINK
        if linking:
            membership = membership_get_for_user(user=request.user, tenant_id=tenant_id)
        else:
            membership = tenant_admin_membership(user=request.user, tenant_id=tenant_id)
        if membership is None:
            raise ImmediateHttpResponse(
                connect_error_response(request, reason=flow.Reason.NOT_ADMIN)
            )
        tenant = membership.tenant
        client = oauth_client_for_connect(tenant_id=tenant.pk)
        if client is None or client.pk != data.get("oauth_client_id"):
            raise ImmediateHttpResponse(
                connect_error_response(
                    request, reason=flow.Reason.NOT_CONFIGURED, tenant=tenant
                )
            )
        token = sociallogin.token
        grant = {
            "access_token": token.token,
            "refresh_token": token.token_secret,
            "expires_at": token.expires_at,
            "connect_data": sociallogin.account.extra_data,
        }
        try:
            if linking:
                connection = link_save_from_connect(
                    tenant=tenant, oauth_client=client, user=request.user, **grant
                )
            else:
                connection = connection_save_from_connect(
                    tenant=tenant, oauth_client=client, actor=request.user, **grant
                )
        except flow.ConnectError as exc:
            raise ImmediateHttpResponse(
                connect_error_response(
                    request, reason=exc.reason, tenant=tenant, params=exc.params
                )
            ) from None
        except ValidationError:
            # PagerDuty sent a value the connection cannot hold; the
            # transaction rolled back, so nothing was stored.
            raise ImmediateHttpResponse(
                connect_error_response(
                    request, reason=flow.Reason.MALFORMED, tenant=tenant
                )
            ) from None
        request.session.pop(flow.SESSION_KEY, None)
        request.session.pop(flow.PURPOSE_KEY, None)
        if linking:
            text = _("Linked: you act in PagerDuty as %(name)s.")
        else:
            text = _("Connected to %(subdomain)s as %(name)s.")
        messages.success(
            request,
            text
            % {
                "subdomain": connection.subdomain,
                "name": connection.pd_user_name or connection.pd_user_id,
            },
        )

    def on_authentication_error(
        self, request, provider, error=None, exception=None, extra_context=None
    ):
        """Render the tenant-facing error page for every failed callback."""
        if getattr(provider, "id", None) != flow.PROVIDER_ID:
            return super().on_authentication_error(
                request, provider, error, exception, extra_context
            )
        state = (extra_context or {}).get("state")
        if isinstance(exception, flow.ConnectError):
            reason, params = exception.reason, exception.params
        elif state is None:
            reason, params = flow.Reason.STATE, {}
            flow.audit_state_invalid(request)
        elif error == AuthError.CANCELLED:
            reason, params = flow.Reason.CANCELLED, {}
        elif exception is None:
            reason, params = flow.Reason.PROVIDER_ERROR, {}
        else:
            reason, params = flow.Reason.MALFORMED, {}
        tenant = None
        if state:
            tenant_id = (state.get("data") or {}).get("tenant_id")
            membership = membership_get_for_user(user=request.user, tenant_id=tenant_id)
            tenant = membership.tenant if membership else None
        raise ImmediateHttpResponse(
            connect_error_response(request, reason=reason, tenant=tenant, params=params)
        )
