"""Workspace pages for schedules, escalation policies, users, teams, webhooks."""

from __future__ import annotations

from datetime import UTC

from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from integrations.exceptions import PagerDutyError
from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import forms as ws_forms
from integrations.pagerduty.workspace import selectors, services
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.entities import WebhookSubscription
from integrations.pagerduty.workspace.views import (
    _choice_refs,
    _perform,
    _posted,
    _url,
    describe_error,
    render_page,
    simple_action,
    workspace_page,
)

FORM = "integrations/pagerduty/form_page.html"
CONFIRM = "integrations/pagerduty/confirm_delete.html"


def _offset(request) -> int:
    try:
        number = int(request.GET.get("page", "1"))
    except ValueError:
        number = 1
    return (max(1, min(number, 400)) - 1) * 25


def _list_page(request, ws, template, page, **context):
    number = page.offset // 25 + 1
    return render_page(
        request,
        ws,
        template,
        {
            "page": page,
            "number": number,
            "previous_url": f"?page={number - 1}",
            "next_url": f"?page={number + 1}",
            **context,
        },
    )


def _form_page(request, ws, *, form, perform, success, done_url, title, cancel_url):
    return _perform(
        request,
        ws,
        form=form,
        perform=perform,
        success=success,
        done_url=done_url,
        template=FORM,
        context={"title": title, "cancel_url": cancel_url},
    )


def _confirm_page(request, ws, *, what, perform, success, done_url, cancel_url):
    form = ws_forms.ConfirmForm(_posted(request))
    return _perform(
        request,
        ws,
        form=form,
        perform=lambda data: perform(),
        success=success,
        done_url=done_url,
        template=CONFIRM,
        context={"what": what, "cancel_url": cancel_url},
    )


# --- Schedules ---


@workspace_page("schedules", Scope.SCHEDULES_READ)
def schedule_list(request, ws: Workspace):
    """List schedules: one call."""
    page = selectors.schedule_list(ws=ws, offset=_offset(request))
    return _list_page(request, ws, "integrations/pagerduty/schedule_list.html", page)


@workspace_page("schedules", Scope.SCHEDULES_READ)
def schedule_detail(request, ws: Workspace, schedule_id: str):
    """Show the final schedule of the next 14 days and the overrides."""
    detail = selectors.schedule_get(ws=ws, schedule_id=schedule_id)
    return render_page(
        request,
        ws,
        "integrations/pagerduty/schedule_detail.html",
        {
            "detail": detail,
            "schedule": detail.schedule,
            "can_write": ws.can(Scope.SCHEDULES_WRITE),
            "override_form": ws_forms.OverrideForm(users=detail.schedule.users),
            "hours": range(24),
        },
    )


@require_http_methods(["GET", "POST"])
@workspace_page("schedules", Scope.SCHEDULES_WRITE, Scope.SCHEDULES_WRITE)
def schedule_override_create(request, ws: Workspace, schedule_id: str):
    """Create an override; on failure the form keeps what was typed."""
    users = selectors.schedule_get(ws=ws, schedule_id=schedule_id).schedule.users
    form = ws_forms.OverrideForm(_posted(request), users=users)
    detail_url = _url("schedule_detail", ws, schedule_id)
    return _form_page(
        request,
        ws,
        form=form,
        perform=lambda data: services.schedule_override_create(
            ws=ws,
            schedule_id=schedule_id,
            user_id=data["user"],
            start=data["start"].replace(tzinfo=UTC),
            end=data["end"].replace(tzinfo=UTC),
        ),
        success=_("Override created."),
        done_url=detail_url,
        title=_("New override"),
        cancel_url=detail_url,
    )


@require_POST
@workspace_page("schedules", Scope.SCHEDULES_READ, Scope.SCHEDULES_WRITE)
def schedule_override_delete(
    request, ws: Workspace, schedule_id: str, override_id: str
):
    """Delete an override."""
    return simple_action(
        request,
        perform=lambda: services.schedule_override_delete(
            ws=ws, schedule_id=schedule_id, override_id=override_id
        ),
        success=_("Override deleted."),
        back_url=_url("schedule_detail", ws, schedule_id),
    )


# --- Escalation policies ---


@workspace_page("escalation_policies", Scope.ESCALATION_POLICIES_READ)
def escalation_policy_list(request, ws: Workspace):
    """List escalation policies: one call."""
    page = selectors.escalation_policy_list(ws=ws, offset=_offset(request))
    return _list_page(
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
    users = _choice_refs(ws, "/users", "users", Scope.USERS_READ)
    schedules = _choice_refs(ws, "/schedules", "schedules", Scope.SCHEDULES_READ)
    return [(f"user:{ref.id}", _("User: %s") % ref.name) for ref in users] + [
        (f"schedule:{ref.id}", _("Schedule: %s") % ref.name) for ref in schedules
    ]


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
        _posted(request), initial=initial, targets=targets, levels=levels
    )

    def perform(data):
        fields = {
            "name": data["name"],
            "description": data["description"],
            "num_loops": data["num_loops"],
            "rules": data["rules"],
        }
        if policy_id:
            return services.escalation_policy_update(
                ws=ws, policy_id=policy_id, **fields
            )
        return services.escalation_policy_create(ws=ws, **fields)

    list_url = _url("escalation_policy_list", ws)
    return _form_page(
        request,
        ws,
        form=form,
        perform=perform,
        success=_("Escalation policy saved."),
        done_url=lambda saved: _url("escalation_policy_detail", ws, saved["id"]),
        title=_("Edit escalation policy") if policy_id else _("New escalation policy"),
        cancel_url=(
            _url("escalation_policy_detail", ws, policy_id) if policy_id else list_url
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


# --- Users ---


@workspace_page("users", Scope.USERS_READ)
def user_list(request, ws: Workspace):
    """List users with their teams: one call."""
    query = request.GET.get("q", "")[:100]
    page = selectors.user_list(ws=ws, query=query, offset=_offset(request))
    return _list_page(
        request,
        ws,
        "integrations/pagerduty/user_list.html",
        page,
        query=query,
        can_write=ws.can(Scope.USERS_WRITE),
    )


@workspace_page("users", Scope.USERS_READ)
def user_detail(request, ws: Workspace, user_id: str):
    """Show a user with their teams: one call."""
    user = selectors.user_get(ws=ws, user_id=user_id)
    return render_page(
        request,
        ws,
        "integrations/pagerduty/user_detail.html",
        {"person": user, "can_write": ws.can(Scope.USERS_WRITE)},
    )


def _user_form_page(request, ws: Workspace, user_id: str = ""):
    initial = None
    if user_id and request.method == "GET":
        user = selectors.user_get(ws=ws, user_id=user_id)
        initial = {
            "name": user.name,
            "email": user.email,
            "role": user.role,
            "job_title": user.job_title,
        }
    form = ws_forms.UserForm(_posted(request), initial=initial)

    def perform(data):
        if user_id:
            return services.user_update(ws=ws, user_id=user_id, **data)
        return services.user_create(ws=ws, **data)

    return _form_page(
        request,
        ws,
        form=form,
        perform=perform,
        success=_("User saved."),
        done_url=lambda saved: _url("user_detail", ws, saved["id"]),
        title=_("Edit user") if user_id else _("New user"),
        cancel_url=(
            _url("user_detail", ws, user_id) if user_id else _url("user_list", ws)
        ),
    )


@require_http_methods(["GET", "POST"])
@workspace_page("users", Scope.USERS_WRITE, Scope.USERS_WRITE)
def user_create(request, ws: Workspace):
    """Create a user."""
    return _user_form_page(request, ws)


@require_http_methods(["GET", "POST"])
@workspace_page("users", Scope.USERS_WRITE, Scope.USERS_WRITE)
def user_edit(request, ws: Workspace, user_id: str):
    """Edit a user."""
    return _user_form_page(request, ws, user_id)


@require_http_methods(["GET", "POST"])
@workspace_page("users", Scope.USERS_WRITE, Scope.USERS_WRITE)
def user_delete(request, ws: Workspace, user_id: str):
    """Ask, then delete a user."""
    return _confirm_page(
        request,
        ws,
        what=_("the user %s") % user_id,
        perform=lambda: services.user_delete(ws=ws, user_id=user_id),
        success=_("User deleted."),
        done_url=_url("user_list", ws),
        cancel_url=_url("user_detail", ws, user_id),
    )


# --- Teams ---


@workspace_page("teams", Scope.TEAMS_READ)
def team_list(request, ws: Workspace):
    """List teams: one call."""
    query = request.GET.get("q", "")[:100]
    page = selectors.team_list(ws=ws, query=query, offset=_offset(request))
    return _list_page(
        request,
        ws,
        "integrations/pagerduty/team_list.html",
        page,
        query=query,
        can_write=ws.can(Scope.TEAMS_WRITE),
    )


@workspace_page("teams", Scope.TEAMS_READ)
def team_detail(request, ws: Workspace, team_id: str):
    """Show a team with its members: two calls (three with the add form)."""
    team, members = selectors.team_get(ws=ws, team_id=team_id)
    can_write = ws.can(Scope.TEAMS_WRITE)
    member_form = None
    if can_write and ws.can(Scope.USERS_READ):
        users = _choice_refs(ws, "/users", "users", Scope.USERS_READ)
        member_form = ws_forms.MemberForm(users=users)
    return render_page(
        request,
        ws,
        "integrations/pagerduty/team_detail.html",
        {
            "team": team,
            "members": members,
            "can_write": can_write,
            "member_form": member_form,
        },
    )


def _team_form_page(request, ws: Workspace, team_id: str = ""):
    initial = None
    if team_id and request.method == "GET":
        team, _members = selectors.team_get(ws=ws, team_id=team_id)
        initial = {"name": team.name, "description": team.description}
    form = ws_forms.TeamForm(_posted(request), initial=initial)

    def perform(data):
        if team_id:
            return services.team_update(ws=ws, team_id=team_id, **data)
        return services.team_create(ws=ws, **data)

    return _form_page(
        request,
        ws,
        form=form,
        perform=perform,
        success=_("Team saved."),
        done_url=lambda saved: _url("team_detail", ws, saved["id"]),
        title=_("Edit team") if team_id else _("New team"),
        cancel_url=(
            _url("team_detail", ws, team_id) if team_id else _url("team_list", ws)
        ),
    )


@require_http_methods(["GET", "POST"])
@workspace_page("teams", Scope.TEAMS_WRITE, Scope.TEAMS_WRITE)
def team_create(request, ws: Workspace):
    """Create a team."""
    return _team_form_page(request, ws)


@require_http_methods(["GET", "POST"])
@workspace_page("teams", Scope.TEAMS_WRITE, Scope.TEAMS_WRITE)
def team_edit(request, ws: Workspace, team_id: str):
    """Edit a team."""
    return _team_form_page(request, ws, team_id)


@require_http_methods(["GET", "POST"])
@workspace_page("teams", Scope.TEAMS_WRITE, Scope.TEAMS_WRITE)
def team_delete(request, ws: Workspace, team_id: str):
    """Ask, then delete a team."""
    return _confirm_page(
        request,
        ws,
        what=_("the team %s") % team_id,
        perform=lambda: services.team_delete(ws=ws, team_id=team_id),
        success=_("Team deleted."),
        done_url=_url("team_list", ws),
        cancel_url=_url("team_detail", ws, team_id),
    )


@require_http_methods(["GET", "POST"])
@workspace_page("teams", Scope.TEAMS_WRITE, Scope.TEAMS_WRITE)
def team_member_add(request, ws: Workspace, team_id: str):
    """Add a user to the team with a role."""
    users = _choice_refs(ws, "/users", "users", Scope.USERS_READ)
    form = ws_forms.MemberForm(_posted(request), users=users)
    detail_url = _url("team_detail", ws, team_id)
    return _form_page(
        request,
        ws,
        form=form,
        perform=lambda data: services.team_add_member(
            ws=ws, team_id=team_id, user_id=data["user"], role=data["role"]
        ),
        success=_("Member added."),
        done_url=detail_url,
        title=_("Add a team member"),
        cancel_url=detail_url,
    )


@require_POST
@workspace_page("teams", Scope.TEAMS_READ, Scope.TEAMS_WRITE)
def team_member_remove(request, ws: Workspace, team_id: str, user_id: str):
    """Remove a user from the team."""
    return simple_action(
        request,
        perform=lambda: services.team_remove_member(
            ws=ws, team_id=team_id, user_id=user_id
        ),
        success=_("Member removed."),
        back_url=_url("team_detail", ws, team_id),
    )


# --- Webhook subscriptions ---


@workspace_page("webhooks", Scope.WEBHOOK_SUBSCRIPTIONS_READ)
def webhook_list(request, ws: Workspace):
    """List webhook subscriptions: one call."""
    page = selectors.webhook_list(ws=ws, offset=_offset(request))
    return _list_page(
        request,
        ws,
        "integrations/pagerduty/webhook_list.html",
        page,
        can_write=ws.can(Scope.WEBHOOK_SUBSCRIPTIONS_WRITE),
    )


@require_http_methods(["GET", "POST"])
@workspace_page(
    "webhooks", Scope.WEBHOOK_SUBSCRIPTIONS_WRITE, Scope.WEBHOOK_SUBSCRIPTIONS_WRITE
)
def webhook_create(request, ws: Workspace):
    """Create a subscription and show its signing secret, this once only.

    The portal does not store the secret yet (that needs an encrypted
    model field), so the page tells the user to copy it now.
    """
    form = ws_forms.WebhookForm(_posted(request))
    error = None
    if request.method == "POST" and form.is_valid():
        try:
            created = services.webhook_create(ws=ws, **form.cleaned_data)
        except PagerDutyError as exc:
            error = describe_error(exc)
        else:
            subscription = WebhookSubscription.from_api(created)
            response = render_page(
                request,
                ws,
                "integrations/pagerduty/webhook_created.html",
                {"subscription": subscription},
                status=201,
            )
            response["Cache-Control"] = "no-store"
            return response
    status = error.status if error else (400 if request.method == "POST" else 200)
    return render_page(
        request,
        ws,
        FORM,
        {
            "form": form,
            "error": error,
            "title": _("New webhook subscription"),
            "cancel_url": _url("webhook_list", ws),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@workspace_page(
    "webhooks", Scope.WEBHOOK_SUBSCRIPTIONS_WRITE, Scope.WEBHOOK_SUBSCRIPTIONS_WRITE
)
def webhook_delete(request, ws: Workspace, subscription_id: str):
    """Ask, then delete a subscription."""
    return _confirm_page(
        request,
        ws,
        what=_("the webhook subscription %s") % subscription_id,
        perform=lambda: services.webhook_delete(ws=ws, subscription_id=subscription_id),
        success=_("Webhook subscription deleted."),
        done_url=_url("webhook_list", ws),
        cancel_url=_url("webhook_list", ws),
    )


@require_POST
@workspace_page(
    "webhooks", Scope.WEBHOOK_SUBSCRIPTIONS_READ, Scope.WEBHOOK_SUBSCRIPTIONS_WRITE
)
def webhook_enable(request, ws: Workspace, subscription_id: str):
    """Re-enable a temporarily disabled subscription."""
    return simple_action(
        request,
        perform=lambda: services.webhook_enable(ws=ws, subscription_id=subscription_id),
        success=_("Webhook subscription enabled."),
        back_url=_url("webhook_list", ws),
    )


@require_POST
@workspace_page(
    "webhooks", Scope.WEBHOOK_SUBSCRIPTIONS_READ, Scope.WEBHOOK_SUBSCRIPTIONS_WRITE
)
def webhook_ping(request, ws: Workspace, subscription_id: str):
    """Ask PagerDuty to send a test event to the subscription."""
    return simple_action(
        request,
        perform=lambda: services.webhook_ping(ws=ws, subscription_id=subscription_id),
        success=_("PagerDuty accepted the ping; a test event is on its way."),
        back_url=_url("webhook_list", ws),
    )
