from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from integrations.selectors import environment_list, membership_list_for_user
from integrations.views.staff import SESSION_ENVIRONMENT


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
