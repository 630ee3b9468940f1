"""Governance pages: tool policies (staff, tenant admins) and held calls."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from integrations.gateway.approvals import (
    ApprovalRefused,
    approval_decide,
    approval_get,
    approval_list,
    approval_pending_list,
    may_decide,
)
from integrations.gateway.governance_forms import ApprovalDecisionForm, ToolPolicyForm
from integrations.gateway.tool_policies import policy_table, tool_policy_set
from integrations.selectors import membership_get_for_request_or_404
from integrations.views.staff import environment_view


def _admin_membership(request, tenant_id: int):
    """Return the user's admin membership: 404 outside the tenant, 403 inside."""
    membership = membership_get_for_request_or_404(request=request, tenant_id=tenant_id)
    if not membership.is_admin:
        raise PermissionDenied
    return membership


def _policy_page(request, *, environment, tenant, template_context, back):
    environment_level = tenant is None
    if request.method == "POST":
        form = ToolPolicyForm(request.POST, environment_level=environment_level)
        if form.is_valid():
            data = form.cleaned_data
            try:
                tool_policy_set(
                    actor=request.user,
                    environment=environment,
                    tenant=tenant,
                    tool=data["tool"],
                    action=data["action"],
                    conditions=data["conditions"],
                    tenant_may_loosen=data.get("tenant_may_loosen", False),
                    self_approval=data["self_approval"],
                )
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                messages.success(
                    request,
                    _("Policy for %(tool)s saved; it applies to the next call.")
                    % {"tool": data["tool"]},
                )
                return redirect(back)
    else:
        form = None
    table = policy_table(environment=environment, tenant=tenant)
    editing = request.GET.get("tool") or (form and form.data.get("tool"))
    row = next((r for r in table if r.tool.name == editing), None)
    if form is None and row is not None:
        policy = row.tenant_policy if tenant else row.environment_policy
        form = ToolPolicyForm(
            initial={
                "tool": row.tool.name,
                "action": policy.action if policy else "",
                "conditions": _json(policy.conditions)
                if policy and policy.conditions
                else "",
                "self_approval": policy.self_approval if policy else False,
                "tenant_may_loosen": policy.tenant_may_loosen if policy else False,
            },
            environment_level=environment_level,
        )
    return render(
        request,
        "gateway/policy_list.html",
        {
            **template_context,
            "rows": table,
            "form": form,
            "editing": row,
            "environment_level": environment_level,
        },
    )


def _json(value) -> str:
    import json

    return json.dumps(value)


@environment_view
@never_cache
def environment_policy_list(request, environment):
    """Staff: every tool's default and environment rule; edit one."""
    return _policy_page(
        request,
        environment=environment,
        tenant=None,
        template_context={"environment": environment},
        back=request.path,
    )


@login_required
@never_cache
def tenant_policy_list(request, tenant_id: int):
    """Tenant admins: every tool's effective policy; tighten (or loosen if let)."""
    membership = _admin_membership(request, tenant_id)
    return _policy_page(
        request,
        environment=membership.tenant.environment,
        tenant=membership.tenant,
        template_context={"tenant": membership.tenant, "membership": membership},
        back=request.path,
    )


@login_required
@never_cache
def approval_list_view(request, tenant_id: int):
    """Tenant admins: held calls waiting for a decision, and recent decisions."""
    membership = _admin_membership(request, tenant_id)
    pending = list(approval_pending_list(tenant=membership.tenant))
    pending_ids = {a.pk for a in pending}
    recent = [
        a
        for a in approval_list(tenant=membership.tenant)[:50]
        if a.pk not in pending_ids
    ]
    return render(
        request,
        "gateway/approval_list.html",
        {
            "tenant": membership.tenant,
            "membership": membership,
            "pending": pending,
            "recent": recent,
        },
    )


@login_required
@never_cache
def approval_detail(request, tenant_id: int, approval_id: str):
    """Tenant admins: exactly what a held call will run; approve or reject it."""
    membership = _admin_membership(request, tenant_id)
    approval = approval_get(tenant=membership.tenant, public_id=approval_id)
    if approval is None:
        raise Http404("No approval matches the given query.")
    allowed = may_decide(approval=approval, membership=membership)
    form = ApprovalDecisionForm(request.POST or None)
    if request.method == "POST":
        if not allowed:
            return render(request, "portal/forbidden.html", status=403)
        if form.is_valid():
            approve = form.cleaned_data["decision"] == "approve"
            try:
                approval_decide(
                    approval=approval,
                    actor=request.user,
                    approve=approve,
                    reason=form.cleaned_data["reason"].strip(),
                )
            except ApprovalRefused as exc:
                messages.error(request, str(exc))
            else:
                done = (
                    _("Approved: the agent's retry runs %(tool)s once.")
                    if approve
                    else _("Rejected: the agent's retry of %(tool)s is refused.")
                )
                messages.success(request, done % {"tool": approval.tool})
            return redirect(
                "gateway:approval_detail",
                tenant_id=membership.tenant_id,
                approval_id=approval.public_id,
            )
    return render(
        request,
        "gateway/approval_detail.html",
        {
            "tenant": membership.tenant,
            "membership": membership,
            "approval": approval,
            "form": form,
            "may_decide": allowed,
            "own_call": approval.user_id == request.user.pk,
        },
    )
