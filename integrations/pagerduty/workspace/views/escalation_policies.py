"""Escalation policy pages: the list, the rules, create and edit."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import forms as ws_forms
from integrations.pagerduty.workspace import selectors, services
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.views.base import (
    form_page,
    list_offset,
    list_page,
    posted,
    render_page,
    url,
    workspace_page,
)


@workspace_page("escalation_policies", Scope.ESCALATION_POLICIES_READ)
def escalation_policy_list(request, ws: Workspace):
    """List escalation policies: one call."""
    page = selectors.escalation_policy_list(ws=ws, offset=list_offset(request))
    return list_page(
        request,
        ws,
        "integrations/pagerduty/escalation_policy_list.html",
        page,
        can_write=ws.can(Scope.ESCALATION_POLICIES_WRITE),
    )


@workspace_page("escalation_policies", Scope.ESCALATION_POLICIES_READ)
def escalation_policy_detail(request, ws: Workspace, policy_id: str):
    """Show a policy's rules and their targets: one call."""
    policy = selectors.escalation_policy_get(ws=ws, policy_id=policy_id)
    return render_page(
        request,
        ws,
        "integrations/pagerduty/escalation_policy_detail.html",
        {"policy": policy, "can_write": ws.can(Scope.ESCALATION_POLICIES_WRITE)},
    )


def _targets(ws: Workspace) -> list[tuple[str, str]]:
    users = selectors.refs_if_granted(ws, selectors.user_refs)
    schedules = selectors.refs_if_granted(ws, selectors.schedule_refs)
    return [(f"user:{ref.id}", _("User: %s") % ref.name) for ref in users] + [
        (f"schedule:{ref.id}", _("Schedule: %s") % ref.name) for ref in schedules
    ]


def _policy_input(data) -> services.EscalationPolicyInput:
    return services.EscalationPolicyInput(
        name=data["name"],
        description=data["description"],
        num_loops=data["num_loops"],
        rules=tuple(
            services.EscalationRule(
                delay_minutes=rule["delay"],
                targets=tuple(
                    services.EscalationTarget(kind=kind, id=target_id)
                    for kind, target_id in rule["targets"]
                ),
            )
            for rule in data["rules"]
        ),
    )


def _policy_form_page(request, ws: Workspace, policy_id: str = ""):
    targets = _targets(ws)
    initial = None
    levels = ws_forms.RULE_COUNT
    if request.method == "POST":
        try:
            levels = int(request.POST.get("levels", levels))
        except ValueError:
            levels = ws_forms.RULE_COUNT
    if policy_id and request.method == "GET":
        policy = selectors.escalation_policy_get(ws=ws, policy_id=policy_id)
        initial = {
            "name": policy.name,
            "description": policy.description,
            "num_loops": policy.num_loops,
        }
        levels = max(ws_forms.RULE_COUNT, len(policy.rules))
        known = {value for value, _label in targets}
        for level, rule in enumerate(policy.rules, start=1):
            initial[f"rule{level}_delay"] = rule.delay_minutes
            values = [f"{t.kind}:{t.ref.id}" for t in rule.targets]
            initial[f"rule{level}_targets"] = values
            targets += [
                (value, target.ref.name)
                for value, target in zip(values, rule.targets, strict=True)
                if value not in known
            ]
            known.update(values)
    form = ws_forms.EscalationPolicyForm(
        posted(request), initial=initial, targets=targets, levels=levels
    )

    def save(data):
        fields = _policy_input(data)
        if policy_id:
            return services.escalation_policy_update(
                ws=ws, policy_id=policy_id, data=fields
            )
        return services.escalation_policy_create(ws=ws, data=fields)

    list_url = url("escalation_policy_list", ws)
    return form_page(
        request,
        ws,
        form=form,
        action=save,
        success=_("Escalation policy saved."),
        done_url=lambda saved: (
            url("escalation_policy_detail", ws, saved.id) if saved.id else list_url
        ),
        title=_("Edit escalation policy") if policy_id else _("New escalation policy"),
        cancel_url=(
            url("escalation_policy_detail", ws, policy_id) if policy_id else list_url
        ),
    )


@require_http_methods(["GET", "POST"])
@workspace_page(
    "escalation_policies",
    Scope.ESCALATION_POLICIES_WRITE,
    Scope.ESCALATION_POLICIES_WRITE,
)
def escalation_policy_create(request, ws: Workspace):
    """Create an escalation policy."""
    return _policy_form_page(request, ws)


@require_http_methods(["GET", "POST"])
@workspace_page(
    "escalation_policies",
    Scope.ESCALATION_POLICIES_WRITE,
    Scope.ESCALATION_POLICIES_WRITE,
)
def escalation_policy_edit(request, ws: Workspace, policy_id: str):
    """Edit an escalation policy; every existing level is kept editable."""
    return _policy_form_page(request, ws, policy_id)
