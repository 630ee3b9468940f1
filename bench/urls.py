"""The portal's URLs plus the baseline the throughput figures divide by."""

from django.http import HttpResponse
from django.urls import path

from portal.urls import urlpatterns as portal_urlpatterns


def trivial(request):
    # Same middleware stack as every portal page, no database, no template.
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/trivial/", trivial, name="bench_trivial")]
urlpatterns += portal_urlpatterns
