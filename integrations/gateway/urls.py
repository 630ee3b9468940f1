from django.urls import path

from integrations.gateway import governance_views, log_views, masking_views, views

app_name = "gateway"

urlpatterns = [
    path("tenants/<int:tenant_id>/agents/", views.agent_list, name="agent_list"),
    path(
        "tenants/<int:tenant_id>/agents/<int:agent_id>/",
        views.agent_detail,
        name="agent_detail",
    ),
    path(
        "tenants/<int:tenant_id>/agents/<int:agent_id>/revoke/",
        views.agent_revoke,
        name="agent_revoke",
    ),
    path("audit/tool-calls/", log_views.tool_call_list, name="tool_call_list"),
    path(
        "audit/tool-calls/export.csv",
        log_views.tool_call_export,
        name="tool_call_export",
    ),
    path(
        "tenants/<int:tenant_id>/agents/calls/",
        log_views.tenant_tool_call_list,
        name="tenant_tool_call_list",
    ),
    path(
        "tenants/<int:tenant_id>/agents/calls/export.csv",
        log_views.tenant_tool_call_export,
        name="tenant_tool_call_export",
    ),
    path(
        "tenants/<int:tenant_id>/agents/masking/",
        masking_views.tenant_masking,
        name="tenant_masking",
    ),
    path(
        "tenants/<int:tenant_id>/agents/masking/<int:rule_id>/delete/",
        masking_views.tenant_masking_delete,
        name="tenant_masking_delete",
    ),
    path(
        "environments/<slug:environment>/agents/masking/",
        masking_views.environment_masking,
        name="environment_masking",
    ),
    path(
        "environments/<slug:environment>/agents/masking/<int:rule_id>/delete/",
        masking_views.environment_masking_delete,
        name="environment_masking_delete",
    ),
    path(
        "environments/<slug:environment>/agents/budgets/",
        masking_views.environment_budgets,
        name="environment_budgets",
    ),
]

# Governance: tool policies and held calls (governance_views.py).
urlpatterns += [
    path(
        "environments/<slug:environment>/agents/policies/",
        governance_views.environment_policy_list,
        name="environment_policy_list",
    ),
    path(
        "tenants/<int:tenant_id>/agents/policies/",
        governance_views.tenant_policy_list,
        name="tenant_policy_list",
    ),
    path(
        "tenants/<int:tenant_id>/agents/approvals/",
        governance_views.approval_list_view,
        name="approval_list",
    ),
    path(
        "tenants/<int:tenant_id>/agents/approvals/<str:approval_id>/",
        governance_views.approval_detail,
        name="approval_detail",
    ),
]
