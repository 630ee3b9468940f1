from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from integrations.selectors import membership_list_for_user


@login_required
def home(request):
    """Show the signed-in user's starting points: admin areas and tenants."""
    memberships = membership_list_for_user(user=request.user)
    return render(request, "portal/home.html", {"memberships": memberships})
