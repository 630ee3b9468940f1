from allauth.socialaccount.providers.base import ProviderAccount
from allauth.socialaccount.providers.base.constants import AuthProcess
from allauth.socialaccount.providers.oauth2.provider import OAuth2Provider
from allauth.socialaccount.providers.oauth2.utils import generate_code_challenge
from django.urls import reverse

from integrations.pagerduty import flow
from integrations.pagerduty.scopes import MINIMUM_SCOPES
from integrations.pagerduty.views import PagerDutyOAuth2Adapter


class PagerDutyAccount(ProviderAccount):
    def get_user_data(self):
        return self.account.extra_data.get("user") or {}

    def get_avatar_url(self):
        return self.get_user_data().get("avatar_url", "")

    def to_str(self):
        return self.get_user_data().get("name") or super().to_str()


class PagerDutyProvider(OAuth2Provider):
    id = flow.PROVIDER_ID
    name = "PagerDuty"
    account_class = PagerDutyAccount
    oauth2_adapter_class = PagerDutyOAuth2Adapter
    pkce_enabled_default = True

    def get_default_scope(self):
        return sorted(MINIMUM_SCOPES)

    # The request never shapes the authorize URL: allauth would otherwise
    # append `?scope=` and merge `?auth_params=` (client_id, redirect_uri,
    # state...) from the login URL (SECURITY-TESTS §0.1).
    def get_scope_from_request(self, request):
        return self.get_scope()

    def get_auth_params(self):
        return {}

    def get_auth_params_from_request(self, request, action):
        return {}

    def get_pkce_params(self) -> dict:
        # Scoped OAuth requires PKCE S256; no app setting may turn it off.
        return generate_code_challenge()

    def redirect(self, request, process, next_url=None, data=None, **kwargs):
        """Start the authorize redirect for the tenant chosen server-side.

        Whatever `process`, `next` or `data` the request asked for, the flow
        only ever connects the pending tenant and returns to its page.
        """
        tenant_id = flow.pending_tenant_id(request)
        data = {
            "tenant_id": tenant_id,
            "oauth_client_id": self.app.settings.get("oauth_client_id"),
            "purpose": flow.pending_purpose(request),
        }
        next_url = reverse("integrations:tenant_home", args=[tenant_id])
        kwargs.pop("scope", None)
        kwargs.pop("auth_params", None)
        return super().redirect(
            request, AuthProcess.REDIRECT, next_url=next_url, data=data
        )

    def extract_uid(self, data):
        return str(data["user"]["id"])

    def extract_common_fields(self, data):
        user = data["user"]
        return {"email": user.get("email"), "name": user.get("name")}

    def extract_email_addresses(self, data):
        # PagerDuty emails never sign anyone in to the portal.
        return []


provider_classes = [PagerDutyProvider]
