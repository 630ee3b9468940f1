import json
import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseServerError
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.selectors import (
    environment_list,
    membership_list_for_user,
    user_time_zone_get,
)
from integrations.services.preferences import user_preference_set_time_zone
from integrations.views.staff import SESSION_ENVIRONMENT
from portal.forms import ProfileForm
from portal.timezones import remember_time_zone

logger = logging.getLogger(__name__)
CSP_REPORT_MAX_BYTES = 16 * 1024


@login_required
def home(request):
    """Send staff to their environment's catalog and members to their tenant.

    A member of several tenants (or none) gets the list instead.
    """
    if request.user.is_staff:
        environments = list(environment_list())
        wanted = request.session.get(SESSION_ENVIRONMENT)
        current = next((e for e in environments if e.slug == wanted), None)
        current = current or (environments[0] if environments else None)
        if current is not None:
            return redirect("integrations:integration_list", current.slug)
    memberships = list(membership_list_for_user(user=request.user))
    if len(memberships) == 1 and not request.user.is_staff:
        return redirect("integrations:tenant_home", memberships[0].tenant_id)
    return render(request, "portal/home.html", {"memberships": memberships})


@login_required
def profile(request):
    """Show and save the signed-in person's own preferences (time zone)."""
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            zone = form.cleaned_data["time_zone"]
            user_preference_set_time_zone(user=request.user, time_zone=zone)
            remember_time_zone(request, zone)
            messages.success(
                request, _("Saved. Times are now shown in %(zone)s.") % {"zone": zone}
            )
            return redirect("profile")
    else:
        form = ProfileForm(initial={"time_zone": user_time_zone_get(user=request.user)})
    return render(
        request,
        "portal/profile.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


def server_error(request):
    """Render the 500 page with the request id support can look up in logs.

    Kept free of database access and context processors: the database may be
    what failed.
    """
    html = render_to_string(
        "500.html", {"request_id": getattr(request, "request_id", "")}
    )
    return HttpResponseServerError(html)


@csrf_exempt
@require_POST
def csp_report(request):
    """Log a browser's Content Security Policy violation report."""
    if len(request.body) > CSP_REPORT_MAX_BYTES:
        return HttpResponse(status=413)
    try:
        report = json.loads(request.body).get("csp-report", {})
        directive = str(report.get("violated-directive", ""))[:100]
        blocked = str(report.get("blocked-uri", ""))[:200]
        page = str(report.get("document-uri", ""))[:200]
    except (ValueError, AttributeError):
        return HttpResponse(status=400)
    logger.warning(
        "CSP violation: directive=%s blocked=%s page=%s", directive, blocked, page
    )
    return HttpResponse(status=204)
