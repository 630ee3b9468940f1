from django.urls import path

from integrations.gateway import views

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
