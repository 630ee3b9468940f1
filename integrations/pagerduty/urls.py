from django.urls import include, path

from integrations.pagerduty import views

# The callback is mounted at the root as /integration-callback (portal/urls.py),
# the path admins register on their PagerDuty app.
urlpatterns = [
    path(
        "pagerduty/",
        include([path("login/", views.oauth2_login, name="pagerduty_login")]),
    )
]
