"""Escalation policy pages: the list, the rules, create and edit."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import forms as ws_forms
from integrations.pagerduty.workspace import selectors, services
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.views.base import (
    list_offset,
    list_page,
    perform,
    posted,
    render_page,
    url,
    workspace_page,
)

POLICY_TEMPLATE = "integrations/pagerduty/escalation_policy_form.html"


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


def _targets(ws: Workspace) -> list:
    """Return the editor's targets: users, then schedules, by name."""
    users = selectors.refs_if_granted(ws, selectors.user_refs)
    schedules = selectors.refs_if_granted(ws, selectors.schedule_refs)
    groups = []
    if users:
        groups.append((_("Users"), [(f"user:{ref.id}", ref.name) for ref in users]))
    if schedules:
        groups.append(
            (_("Schedules"), [(f"schedule:{ref.id}", ref.name) for ref in schedules])
        )
    return groups


def _with_current(groups: list, policy) -> list:
    """Keep the policy's own targets choosable even past the directory lists."""
    known = {value for _group, choices in groups for value, _label in choices}
    extra = [
        (f"{target.kind}:{target.ref.id}", target.ref.name)
        for rule in policy.rules
        for target in rule.targets
        if f"{target.kind}:{target.ref.id}" not in known
    ]
    if extra:
        groups = [*groups, (_("On this policy"), list(dict.fromkeys(extra)))]
    return groups


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
    """The level editor: Save sends the policy; the level buttons rearrange.

    Adding, removing and moving a level is a round trip that keeps every
    value typed and sends nothing to PagerDuty.
    """
    targets = _targets(ws)
    list_url = url("escalation_policy_list", ws)
    title = _("Edit escalation policy") if policy_id else _("New escalation policy")
    cancel_url = (
        url("escalation_policy_detail", ws, policy_id) if policy_id else list_url
    )
    op = request.POST.get("op", "") if request.method == "POST" else ""
    if policy_id and request.method == "GET":
        policy = selectors.escalation_policy_get(ws=ws, policy_id=policy_id)
        initial = {
            "name": policy.name,
            "description": policy.description,
            "num_loops": policy.num_loops,
        }
        for level, rule in enumerate(policy.rules, start=1):
            initial[f"rule{level}_delay"] = rule.delay_minutes
            initial[f"rule{level}_targets"] = [
                f"{t.kind}:{t.ref.id}" for t in rule.targets
            ]
        form = ws_forms.EscalationPolicyForm(
            initial=initial,
            targets=_with_current(targets, policy),
            levels=len(policy.rules),
        )
    elif op:
        initial, levels = ws_forms.policy_levels_rearranged(request.POST, op)
        form = ws_forms.EscalationPolicyForm(
            initial=initial,
            targets=_posted_targets(targets, request.POST),
            levels=levels,
        )
    else:
        levels = 1
        if request.method == "POST":
            try:
                levels = int(request.POST.get("levels") or 1)
            except ValueError:
                levels = 1
        form = ws_forms.EscalationPolicyForm(
            posted(request),
            targets=_posted_targets(targets, request.POST),
            levels=levels,
        )
    if op:
        return render_page(
            request,
            ws,
            POLICY_TEMPLATE,
            {"form": form, "title": title, "cancel_url": cancel_url, "error": None},
        )

    def save(data):
        fields = _policy_input(data)
        if policy_id:
            return services.escalation_policy_update(
                ws=ws, policy_id=policy_id, data=fields
            )
        return services.escalation_policy_create(ws=ws, data=fields)

    return perform(
        request,
        ws,
        form=form,
        action=save,
        success=_("Escalation policy saved."),
        done_url=lambda saved: (
            url("escalation_policy_detail", ws, saved.id) if saved.id else list_url
        ),
        template=POLICY_TEMPLATE,
        context={"title": title, "cancel_url": cancel_url},
    )


def _posted_targets(groups: list, data) -> list:
    """Keep posted targets choosable (a policy's own, past the lists' end).

    Only well-formed "user:ID" / "schedule:ID" values are kept, named by
    their ID; the operation layer checks them again.
    """
    known = {value for _group, choices in groups for value, _label in choices}
    extra = []
    for key in data:
        if key.startswith("rule") and key.endswith("_targets"):
            for value in data.getlist(key):
                kind, _colon, target_id = value.partition(":")
                if (
                    value not in known
                    and kind in ("user", "schedule")
                    and ws_forms.pd_id.regex.match(target_id)
                ):
                    extra.append((value, target_id))
    if extra:
        groups = [*groups, (_("On this policy"), list(dict.fromkeys(extra)))]
    return groups


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
