from django.contrib import admin
from django.urls import include, path

from portal import health, views

admin.site.site_header = "PagerDuty Portal administration"
admin.site.site_title = "PagerDuty Portal admin"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("", include("integrations.urls")),
]
