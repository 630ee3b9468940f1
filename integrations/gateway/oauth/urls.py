"""The authorization server's endpoints under /o/ (DOT's URL names).

DOT's metadata view reverses these names, so the namespace stays
`oauth2_provider`. Only what MCP clients use is mounted: no implicit or
password flows, no device flow, no introspection, no application pages.
"""

from django.urls import path
from oauth2_provider import views as dot_views

from integrations.gateway.oauth import views

app_name = "oauth2_provider"

urlpatterns = [
    path("authorize/", views.ConsentView.as_view(), name="authorize"),
    path("token/", dot_views.TokenView.as_view(), name="token"),
    path("revoke_token/", dot_views.RevokeTokenView.as_view(), name="revoke-token"),
    path("register/", views.RegistrationView.as_view(), name="dcr-register"),
    path(
        "register/<str:client_id>/",
        views.RegistrationManagementView.as_view(),
        name="dcr-register-management",
    ),
]
