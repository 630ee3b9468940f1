from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from oauth2_provider.views import OAuthServerMetadataView

from integrations.pagerduty.views import oauth2_callback
from integrations.views.webhooks import pagerduty_webhook
from portal import health, views

admin.site.site_header = "PagerDuty Portal administration"
admin.site.site_title = "PagerDuty Portal admin"
# The admin's own password form would skip allauth's second factor and its
# login rate limits; signing in always goes through allauth.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", views.home, name="home"),
    path("profile/", views.profile, name="profile"),
    path("healthz", health.healthz, name="healthz"),
    path("csp-report", views.csp_report, name="csp_report"),
    # PagerDuty's redirect URL, registered on each app; allauth reverses it
    # by this exact name.
    path("integration-callback", oauth2_callback, name="pagerduty_callback"),
    # Each connection's webhook receiver; the security tests reverse this
    # name without a namespace.
    path(
        "hooks/pagerduty/<uuid:receiver_id>/",
        pagerduty_webhook,
        name="pagerduty_webhook",
    ),
    # The MCP gateway's authorization server: RFC 8414 metadata at the root
    # (the issuer is PORTAL_BASE_URL), the endpoints under /o/. /mcp and
    # the protected-resource metadata are served by portal.serving.
    path(
        ".well-known/oauth-authorization-server",
        OAuthServerMetadataView.as_view(),
        name="oauth_server_metadata",
    ),
    path("o/", include("integrations.gateway.oauth.urls")),
    path("", include("integrations.gateway.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("", include("integrations.urls")),
]

handler500 = "portal.views.server_error"
