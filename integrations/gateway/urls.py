from django.urls import path

from integrations.gateway import governance_views, views

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
    path("audit/tool-calls/", views.tool_call_list, name="tool_call_list"),
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
