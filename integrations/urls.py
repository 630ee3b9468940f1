from django.urls import include, path

from integrations.views import audit, config, members, staff, tenant, tenant_app

app_name = "integrations"

# Staff pages: environments, integrations, tenants overview, audit log.
admin_urlpatterns = [
    path(
        "environments/<slug:environment>/integrations/",
        staff.integration_list_view,
        name="integration_list",
    ),
    path(
        "environments/<slug:environment>/integrations/pagerduty/",
        config.pagerduty_config,
        name="pagerduty_config",
    ),
    path(
        "environments/<slug:environment>/integrations/pagerduty/verify/",
        config.pagerduty_verify,
        name="pagerduty_verify",
    ),
    path(
        "environments/<slug:environment>/integrations/pagerduty/gateway/",
        config.pagerduty_gateway,
        name="pagerduty_gateway",
    ),
    path(
        "environments/<slug:environment>/integrations/pagerduty/enabled/",
        config.pagerduty_set_enabled,
        name="pagerduty_set_enabled",
    ),
    path(
        "environments/<slug:environment>/integrations/pagerduty/tenant-apps/",
        config.pagerduty_tenant_apps,
        name="pagerduty_tenant_apps",
    ),
    path(
        "environments/<slug:environment>/tenants/",
        staff.tenant_list_view,
        name="tenant_list",
    ),
    path(
        "environments/<slug:environment>/tenants/reconsent/",
        staff.tenant_reconsent,
        name="tenant_reconsent",
    ),
    path(
        "environments/<slug:environment>/tenants/<int:tenant_id>/app/",
        staff.tenant_app_block,
        name="tenant_app_block",
    ),
    path(
        "environments/<slug:environment>/tenants/<int:tenant_id>/",
        staff.tenant_detail_view,
        name="tenant_detail",
    ),
    path(
        "environments/<slug:environment>/tenants/<int:tenant_id>/webhook/",
        staff.tenant_webhook_recreate,
        name="tenant_webhook_recreate",
    ),
    path("audit/", audit.audit_list, name="audit_list"),
]

# Tenant pages: members reach only the tenants they belong to.
tenant_urlpatterns = [
    path("tenants/<int:tenant_id>/", tenant.tenant_home, name="tenant_home"),
    path(
        "tenants/<int:tenant_id>/pagerduty/connect/",
        tenant.tenant_connect,
        name="tenant_connect",
    ),
    path(
        "tenants/<int:tenant_id>/pagerduty/link/",
        tenant.tenant_link,
        name="tenant_link",
    ),
    path(
        "tenants/<int:tenant_id>/pagerduty/unlink/",
        tenant.tenant_unlink,
        name="tenant_unlink",
    ),
    path(
        "tenants/<int:tenant_id>/pagerduty/reads/",
        tenant.tenant_read_setting,
        name="tenant_read_setting",
    ),
    path(
        "tenants/<int:tenant_id>/pagerduty/disconnect/",
        tenant.tenant_disconnect,
        name="tenant_disconnect",
    ),
    path("tenants/<int:tenant_id>/app/", tenant_app.tenant_app, name="tenant_app"),
    path(
        "tenants/<int:tenant_id>/app/verify/",
        tenant_app.tenant_app_verify,
        name="tenant_app_verify",
    ),
    path(
        "tenants/<int:tenant_id>/app/use/",
        tenant_app.tenant_app_use,
        name="tenant_app_use",
    ),
    path(
        "tenants/<int:tenant_id>/members/",
        members.tenant_members,
        name="tenant_members",
    ),
    path(
        "tenants/<int:tenant_id>/members/<int:membership_id>/role/",
        members.tenant_member_role,
        name="tenant_member_role",
    ),
    path(
        "tenants/<int:tenant_id>/members/<int:membership_id>/remove/",
        members.tenant_member_remove,
        name="tenant_member_remove",
    ),
    path(
        "tenants/<int:tenant_id>/invitations/<int:invitation_id>/revoke/",
        members.tenant_invitation_revoke,
        name="tenant_invitation_revoke",
    ),
    path(
        "invitations/<str:token>/",
        members.invitation_accept_view,
        name="invitation_accept",
    ),
    # The tenant's PagerDuty workspace (integrations/pagerduty/workspace/).
    path(
        "tenants/<int:tenant_id>/pagerduty/",
        include("integrations.pagerduty.workspace.urls"),
    ),
]

urlpatterns = admin_urlpatterns + tenant_urlpatterns
