from django.urls import path

from integrations.views import tenant

app_name = "integrations"

# Staff pages: environments, integrations, tenants overview, audit log.
admin_urlpatterns = []

# Tenant pages: members reach only the tenants they belong to.
tenant_urlpatterns = [
    path("tenants/<int:tenant_id>/", tenant.tenant_home, name="tenant_home"),
    path(
        "tenants/<int:tenant_id>/pagerduty/connect/",
        tenant.tenant_connect,
        name="tenant_connect",
    ),
    path(
        "tenants/<int:tenant_id>/pagerduty/disconnect/",
        tenant.tenant_disconnect,
        name="tenant_disconnect",
    ),
]

urlpatterns = admin_urlpatterns + tenant_urlpatterns
