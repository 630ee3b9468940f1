"""Masking rules (staff per environment, tenant admins per tenant) and budgets."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from integrations.gateway.forms import AgentBudgetForm, MaskingRuleForm
from integrations.gateway.models import AgentBudget
from integrations.gateway.selectors import masking_rule_list
from integrations.gateway.services import (
    agent_budget_update,
    masking_rule_create,
    masking_rule_delete,
)
from integrations.gateway.tools.budgets import budget_limits
from integrations.models import Environment
from integrations.selectors import membership_get_for_request_or_404
from integrations.views.staff import environment_view


def _admin_membership(request, tenant_id: int):
    membership = membership_get_for_request_or_404(request=request, tenant_id=tenant_id)
    return membership if membership.is_admin else None


def _add(request, form: MaskingRuleForm, **owner) -> bool:
    """Create the posted rule; put a service refusal on the form."""
    if not form.is_valid():
        return False
    try:
        masking_rule_create(actor=request.user, **form.cleaned_data, **owner)
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return False
    messages.success(request, _("Masking rule added; it applies from the next call."))
    return True


@login_required
@never_cache
def tenant_masking(request, tenant_id: int):
    """Show the tenant's masking rules and its environment's; add one."""
    membership = _admin_membership(request, tenant_id)
    if membership is None:
        return render(request, "portal/forbidden.html", status=403)
    tenant = membership.tenant
    form = MaskingRuleForm(request.POST or None)
    if request.method == "POST" and _add(request, form, tenant=tenant):
        return redirect("gateway:tenant_masking", tenant_id=tenant.pk)
    return render(
        request,
        "gateway/masking.html",
        {
            "tenant": tenant,
            "membership": membership,
            "form": form,
            "rules": masking_rule_list(tenant=tenant),
            "inherited": masking_rule_list(environment=tenant.environment),
        },
    )


@login_required
@require_POST
def tenant_masking_delete(request, tenant_id: int, rule_id: int):
    """Remove one of the tenant's own masking rules (its admins)."""
    membership = _admin_membership(request, tenant_id)
    if membership is None:
        return render(request, "portal/forbidden.html", status=403)
    rule = get_object_or_404(masking_rule_list(tenant=membership.tenant), pk=rule_id)
    masking_rule_delete(actor=request.user, rule=rule)
    messages.success(request, _("Masking rule removed."))
    return redirect("gateway:tenant_masking", tenant_id=membership.tenant_id)


@environment_view
@never_cache
def environment_masking(request, environment: Environment):
    """Show the environment's masking rules (every tenant's); add one."""
    form = MaskingRuleForm(request.POST or None)
    if request.method == "POST" and _add(request, form, environment=environment):
        return redirect("gateway:environment_masking", environment=environment.slug)
    return render(
        request,
        "gateway/masking.html",
        {
            "environment": environment,
            "form": form,
            "rules": masking_rule_list(environment=environment),
        },
    )


@require_POST
@environment_view
def environment_masking_delete(request, environment: Environment, rule_id: int):
    """Remove one of the environment's masking rules (staff)."""
    rule = get_object_or_404(masking_rule_list(environment=environment), pk=rule_id)
    masking_rule_delete(actor=request.user, rule=rule)
    messages.success(request, _("Masking rule removed."))
    return redirect("gateway:environment_masking", environment=environment.slug)


@environment_view
@never_cache
def environment_budgets(request, environment: Environment):
    """Show and change an environment's per-minute tool-call budgets (staff)."""
    budget = AgentBudget.objects.filter(environment=environment).first()
    form = AgentBudgetForm(
        request.POST or None, instance=budget, defaults=budget_limits()
    )
    if request.method == "POST" and form.is_valid():
        agent_budget_update(
            actor=request.user,
            environment=environment,
            limits={name: form.cleaned_data[name] for name in form.fields},
        )
        messages.success(request, _("Budgets saved; they apply from the next call."))
        return redirect("gateway:environment_budgets", environment=environment.slug)
    return render(
        request,
        "gateway/budgets.html",
        {
            "environment": environment,
            "form": form,
            "effective": budget_limits(environment_id=environment.pk),
        },
    )
