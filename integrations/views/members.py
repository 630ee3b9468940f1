"""A tenant's people in the portal: invite by email, change roles, remove;
and the invitation link itself."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from integrations.forms import InvitationForm, InvitedAccountForm, MemberRoleForm
from integrations.models import Invitation, Membership
from integrations.selectors import (
    invitation_list_pending,
    membership_get_or_404,
    tenant_membership_list,
)
from integrations.services.members import (
    invitation_accept,
    invitation_accept_with_new_account,
    invitation_create,
    invitation_get_pending,
    invitation_revoke,
    membership_remove,
    membership_set_role,
)

MEMBERS_TEMPLATE = "integrations/tenant_members.html"


def _admin_membership(request, tenant_id: int) -> Membership:
    membership = membership_get_or_404(user=request.user, tenant_id=tenant_id)
    if not membership.is_admin:
        raise PermissionDenied
    return membership


def _members_url(tenant_id: int) -> str:
    return reverse("integrations:tenant_members", args=[tenant_id])


@login_required
@require_http_methods(["GET", "POST"])
def tenant_members(request, tenant_id: int):
    """List the tenant's people; admins invite by email and change roles."""
    membership = membership_get_or_404(user=request.user, tenant_id=tenant_id)
    tenant = membership.tenant
    form = InvitationForm(request.POST if request.method == "POST" else None)
    status = 200
    members = list(tenant_membership_list(tenant=tenant))
    admins = sum(1 for member in members if member.is_admin)
    if request.method == "POST":
        if not membership.is_admin:
            raise PermissionDenied
        if form.is_valid():
            try:
                invitation = invitation_create(
                    tenant=tenant,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    actor=request.user,
                    accept_url=lambda token: request.build_absolute_uri(
                        reverse("integrations:invitation_accept", args=[token])
                    ),
                )
            except ValidationError as exc:
                form.add_error("email", exc)
            else:
                messages.success(
                    request,
                    _("Invitation sent to %(email)s.") % {"email": invitation.email},
                )
                return redirect(_members_url(tenant.pk))
        status = 400
    return render(
        request,
        MEMBERS_TEMPLATE,
        {
            "tenant": tenant,
            "membership": membership,
            "members": [
                {
                    "membership": member,
                    "form": MemberRoleForm(
                        initial={"role": member.role}, prefix=f"m{member.pk}"
                    ),
                    # The last admin stays one: nothing to offer that is refused.
                    "last_admin": member.is_admin and admins == 1,
                }
                for member in members
            ],
            "invitations": (
                invitation_list_pending(tenant=tenant) if membership.is_admin else ()
            ),
            "form": form,
        },
        status=status,
    )


@login_required
@require_POST
def tenant_member_role(request, tenant_id: int, membership_id: int):
    """Change a member's role (admins); the last admin stays one."""
    admin = _admin_membership(request, tenant_id)
    member = get_object_or_404(Membership, pk=membership_id, tenant=admin.tenant)
    form = MemberRoleForm(request.POST, prefix=f"m{member.pk}")
    if not form.is_valid():
        messages.error(request, _("Choose a role."))
        return redirect(_members_url(tenant_id))
    try:
        changed = membership_set_role(
            membership=member, role=form.cleaned_data["role"], actor=request.user
        )
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(
            request,
            _("%(user)s is now %(role)s.")
            % {"user": changed.user.get_username(), "role": changed.get_role_display()},
        )
    return redirect(_members_url(tenant_id))


@login_required
@require_http_methods(["GET", "POST"])
def tenant_member_remove(request, tenant_id: int, membership_id: int):
    """Ask, then take someone out of the tenant (admins)."""
    admin = _admin_membership(request, tenant_id)
    member = get_object_or_404(
        Membership.objects.select_related("user"), pk=membership_id, tenant=admin.tenant
    )
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        try:
            membership_remove(membership=member, actor=request.user)
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
            return redirect(_members_url(tenant_id))
        messages.success(
            request,
            _("%(user)s no longer belongs to %(tenant)s.")
            % {"user": member.user.get_username(), "tenant": admin.tenant.name},
        )
        if member.user_id == request.user.pk:
            return redirect("home")
        return redirect(_members_url(tenant_id))
    return render(
        request,
        "integrations/tenant_member_remove.html",
        {"tenant": admin.tenant, "membership": admin, "member": member},
    )


@login_required
@require_POST
def tenant_invitation_revoke(request, tenant_id: int, invitation_id: int):
    """Withdraw an invitation (admins); its link stops working."""
    admin = _admin_membership(request, tenant_id)
    invitation = get_object_or_404(Invitation, pk=invitation_id, tenant=admin.tenant)
    invitation_revoke(invitation=invitation, actor=request.user)
    messages.success(
        request,
        _("The invitation to %(email)s is withdrawn.") % {"email": invitation.email},
    )
    return redirect(_members_url(tenant_id))


@never_cache
@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def invitation_accept_view(request, token: str):
    """Accept an invitation: join as the signed-in person, or make an account.

    The link's token is checked against its stored hash; an unknown, spent,
    withdrawn or expired link says so and changes nothing.
    """
    invitation = invitation_get_pending(token=token)
    context = {"invitation": invitation, "error": ""}
    status = 200
    if invitation is None:
        response = render(
            request, "integrations/invitation_accept.html", context, status=404
        )
        return _private(response)
    user = request.user
    signed_in = user.is_authenticated
    has_account = invitation_has_account(invitation)
    account_form = None
    if not signed_in and not has_account:
        account_form = InvitedAccountForm(
            request.POST if request.method == "POST" else None
        )
    if request.method == "POST":
        try:
            if signed_in:
                membership = invitation_accept(invitation=invitation, user=user)
                return _joined(request, membership)
            if account_form is not None and account_form.is_valid():
                new_user = invitation_accept_with_new_account(
                    invitation=invitation,
                    username=account_form.cleaned_data["username"],
                    password=account_form.cleaned_data["password1"],
                )
                login(
                    request,
                    new_user,
                    backend="django.contrib.auth.backends.ModelBackend",
                )
                membership = Membership.objects.get(
                    user=new_user, tenant=invitation.tenant
                )
                return _joined(request, membership)
        except ValidationError as exc:
            if account_form is not None:
                account_form.add_error(None, exc)
            else:
                context["error"] = exc.messages[0]
        status = 400
    context.update(
        {
            "signed_in": signed_in,
            "has_account": has_account,
            "account_form": account_form,
            "email_matches": signed_in
            and (user.email or "").casefold() == invitation.email.casefold(),
            "login_url": f"{reverse('account_login')}?next={request.path}",
        }
    )
    return _private(
        render(request, "integrations/invitation_accept.html", context, status=status)
    )


def invitation_has_account(invitation: Invitation) -> bool:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(email__iexact=invitation.email).exists()


def _joined(request, membership: Membership):
    messages.success(
        request,
        _("Welcome to %(tenant)s: you are %(role)s.")
        % {"tenant": membership.tenant.name, "role": membership.get_role_display()},
    )
    return redirect("integrations:tenant_home", tenant_id=membership.tenant_id)


def _private(response):
    # The token is in the address: keep it out of caches and other sites'
    # Referer headers (same-origin keeps the Origin header CSRF checks).
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    return response
