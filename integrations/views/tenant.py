"""Pages a tenant's own members see."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from integrations.selectors import connection_get_live, membership_get_or_404


@login_required
def tenant_home(request, tenant_id: int):
    """Show a tenant's PagerDuty connection to its members."""
    membership = membership_get_or_404(user=request.user, tenant_id=tenant_id)
    connection = connection_get_live(tenant=membership.tenant)
    return render(
        request,
        "integrations/tenant_home.html",
        {
            "membership": membership,
            "tenant": membership.tenant,
            "connection": connection,
        },
    )
