from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from integrations.forms import OAuthClientForm
from integrations.models import (
    AuditEvent,
    Connection,
    Environment,
    Membership,
    OAuthClient,
    Tenant,
    WebhookDelivery,
    WebhookSubscription,
)
from integrations.services.oauth_clients import oauth_client_save


@admin.register(Environment)
class EnvironmentAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "gateway_url", "redirect_url", "position"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["redirect_url"]

    @admin.display(description=_("redirect URL"))
    def redirect_url(self, obj):
        return obj.redirect_url


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "environment", "created_at"]
    list_filter = ["environment"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "tenant", "role", "created_at"]
    list_filter = ["role", "tenant__environment", "tenant"]
    search_fields = ["user__username", "user__email", "tenant__name"]
    autocomplete_fields = ["user", "tenant"]


class AdminOAuthClientForm(OAuthClientForm):
    class Meta(OAuthClientForm.Meta):
        fields = [
            "environment",
            "tenant",
            "provider",
            *OAuthClientForm.Meta.fields,
            "staff_disabled",
        ]


@admin.register(OAuthClient)
class OAuthClientAdmin(admin.ModelAdmin):
    """The client secret is write-only here: only "set ••••last4" shows."""

    form = AdminOAuthClientForm
    list_display = [
        "__str__",
        "environment",
        "tenant",
        "app_type",
        "client_id",
        "secret_status",
        "enabled",
        "region",
        "subdomain",
        "updated_at",
    ]
    list_filter = ["environment", "enabled", "region", "provider"]
    search_fields = ["client_id", "subdomain", "tenant__name"]
    readonly_fields = ["secret_status", "updated_by", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["environment", "tenant", "provider"]}),
        (
            _("Credentials"),
            {"fields": ["client_id", "secret_status", "new_client_secret"]},
        ),
        (
            _("Access"),
            {
                "fields": [
                    "app_type",
                    "scopes",
                    "classic_scope",
                    "region",
                    "subdomain",
                    "enabled",
                    "staff_disabled",
                ]
            },
        ),
        (_("History"), {"fields": ["updated_by", "created_at", "updated_at"]}),
    ]

    @admin.display(description=_("Client Secret"))
    def secret_status(self, obj):
        return f"set ••••{obj.secret_last4}" if obj.has_secret else _("not set")

    def save_model(self, request, obj, form, change):
        oauth_client_save(
            client=obj,
            actor=request.user,
            new_secret=form.cleaned_data.get("new_client_secret", ""),
            changed_fields=form.audited_changes,
        )


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    """Tokens are never shown; only whether they are stored."""

    list_display = [
        "tenant",
        "status",
        "subdomain",
        "region",
        "pd_user_name",
        "access_expires_at",
        "has_refresh_token",
        "updated_at",
    ]
    list_filter = ["status", "region", "tenant__environment"]
    search_fields = ["tenant__name", "subdomain", "pd_user_email", "account_id"]
    fields = [
        "tenant",
        "oauth_client",
        "status",
        "last_error",
        "account_id",
        "subdomain",
        "region",
        "api_url",
        "pd_user_id",
        "pd_user_name",
        "pd_user_email",
        "granted_scopes",
        "requested_scopes",
        "delegation_id",
        "has_access_token",
        "has_refresh_token",
        "access_expires_at",
        "refresh_expires_at",
        "connected_by",
        "connected_at",
        "refreshed_at",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(boolean=True, description=_("access token stored"))
    def has_access_token(self, obj):
        return bool(obj.access_token)

    @admin.display(boolean=True, description=_("refresh token stored"))
    def has_refresh_token(self, obj):
        return bool(obj.refresh_token)


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    """The signing secret is never shown; only whether it is stored."""

    list_display = [
        "connection",
        "status",
        "pd_subscription_id",
        "last_delivery_at",
        "consecutive_refusals",
        "has_signing_secret",
    ]
    list_filter = ["status", "connection__tenant__environment"]
    search_fields = ["connection__tenant__name", "pd_subscription_id"]
    fields = [
        "connection",
        "status",
        "last_error",
        "pd_subscription_id",
        "receiver_id",
        "has_signing_secret",
        "events",
        "consecutive_refusals",
        "last_delivery_at",
        "last_ping_at",
        "last_refusal_at",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(boolean=True, description=_("signing secret stored"))
    def has_signing_secret(self, obj):
        return bool(obj.signing_secret)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "received_at",
        "subscription",
        "event_type",
        "resource_id",
        "incident_status",
        "outcome",
    ]
    list_filter = ["outcome", "event_type"]
    search_fields = ["webhook_id", "event_id", "resource_id"]
    date_hierarchy = "received_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "actor_label",
        "action",
        "target",
        "environment",
        "tenant",
    ]
    list_filter = ["action", "environment", "tenant"]
    search_fields = ["actor_label", "target"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# allauth's admin renders SocialApp.secret in a plain text input and lists
# the start of every SocialToken. Apps come from OAuthClient and tokens live
# in Connection, so these models hold nothing and get no admin pages.
for _model in (SocialApp, SocialToken, SocialAccount):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


# allauth's Authenticator admin edits `data`, the (encrypted) TOTP secret and
# recovery seed. Staff only need to see who enrolled and to delete an
# authenticator so a user who lost their device can enrol again.
if admin.site.is_registered(Authenticator):
    admin.site.unregister(Authenticator)


@admin.register(Authenticator)
class AuthenticatorAdmin(admin.ModelAdmin):
    list_display = ("user", "type", "created_at", "last_used_at")
    list_filter = ("type",)
    search_fields = ("user__username", "user__email")
    fields = ("user", "type", "created_at", "last_used_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
