"""Read-only admin pages of the gateway's records; revoking goes through the service."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from integrations.gateway.models import (
    AgentAuthorization,
    Approval,
    ToolCall,
    ToolPolicy,
)
from integrations.gateway.services import agent_authorization_revoke


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AgentAuthorization)
class AgentAuthorizationAdmin(ReadOnlyAdmin):
    list_display = [
        "client",
        "user",
        "tenant",
        "scope",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["tenant__environment", "tenant", "scope"]
    search_fields = [
        "user__username",
        "tenant__name",
        "client__name",
        "client__client_id",
    ]
    list_select_related = ["client", "user", "tenant"]
    fields = [
        "client",
        "user",
        "tenant",
        "scope",
        "resource",
        "created_at",
        "last_used_at",
        "revoked_at",
        "revoked_by",
        "revoke_reason",
    ]
    actions = ["revoke"]

    @admin.action(description=_("Revoke the selected agents"))
    def revoke(self, request, queryset):
        for authorization in queryset.filter(revoked_at__isnull=True):
            agent_authorization_revoke(
                authorization=authorization,
                reason="revoked in the admin",
                actor=request.user,
            )
        messages.success(request, _("The selected agents were revoked."))


@admin.register(ToolCall)
class ToolCallAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "tool",
        "outcome",
        "reason",
        "tenant",
        "user_label",
        "client_label",
        "protocol_version",
        "pagerduty_status",
        "latency_ms",
    ]
    list_filter = [
        "outcome",
        "tool",
        "protocol_version",
        "tenant__environment",
        "tenant",
    ]
    search_fields = ["tool", "user_label", "client_label", "request_id", "reason"]
    date_hierarchy = "created_at"
    list_select_related = ["tenant"]
    fields = [
        "created_at",
        "tenant",
        "user",
        "user_label",
        "client",
        "client_label",
        "authorization",
        "protocol_version",
        "tool",
        "arguments",
        "outcome",
        "reason",
        "message",
        "pagerduty_status",
        "latency_ms",
        "request_id",
    ]


@admin.register(ToolPolicy)
class ToolPolicyAdmin(ReadOnlyAdmin):
    """Read only: changes go through the policy pages, which audit them."""

    list_display = ["tool", "environment", "tenant", "action", "updated_at"]
    list_filter = ["environment", "action"]
    search_fields = ["tool", "tenant__name"]
    list_select_related = ["environment", "tenant"]


@admin.register(Approval)
class ApprovalAdmin(ReadOnlyAdmin):
    """Read only: tenant admins decide held calls on the approvals page."""

    list_display = ["public_id", "tool", "tenant", "user", "status", "created_at"]
    list_filter = ["status", "tenant__environment"]
    search_fields = ["public_id", "tool", "user__username", "tenant__name"]
    list_select_related = ["tenant", "user"]
