"""User and team pages: lists, details, create, edit, delete, membership."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import forms as ws_forms
from integrations.pagerduty.workspace import selectors, services
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.views.base import (
    confirm_page,
    form_page,
    list_offset,
    list_page,
    posted,
    render_page,
    url,
    workspace_page,
)


def _saved_url(ws: Workspace, name: str, fallback: str):
    return lambda saved: url(name, ws, saved.id) if saved.id else url(fallback, ws)


# --- Users ---


@workspace_page("users", Scope.USERS_READ)
def user_list(request, ws: Workspace):
    """List users with their teams: one call."""
    query = request.GET.get("q", "")[:100]
    page = selectors.user_list(ws=ws, query=query, offset=list_offset(request))
    return list_page(
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

    def save(data):
        if user_id:
            return services.user_update(ws=ws, user_id=user_id, **data)
        return services.user_create(ws=ws, **data)

    return form_page(
        request,
        ws,
        form=ws_forms.UserForm(posted(request), initial=initial),
        action=save,
        success=_("User saved."),
        done_url=_saved_url(ws, "user_detail", "user_list"),
        title=_("Edit user") if user_id else _("New user"),
        cancel_url=(
            url("user_detail", ws, user_id) if user_id else url("user_list", ws)
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
    """Ask, then delete a user, by name."""
    what = _("the user")
    if request.method == "GET":
        person = selectors.user_get(ws=ws, user_id=user_id)
        what = _("the user %(name)s (%(email)s)") % {
            "name": person.name,
            "email": person.email or user_id,
        }
    return confirm_page(
        request,
        ws,
        what=what,
        action=lambda: services.user_delete(ws=ws, user_id=user_id),
        success=_("User deleted."),
        done_url=url("user_list", ws),
        cancel_url=url("user_detail", ws, user_id),
    )


# --- Teams ---


@workspace_page("teams", Scope.TEAMS_READ)
def team_list(request, ws: Workspace):
    """List teams: one call."""
    query = request.GET.get("q", "")[:100]
    page = selectors.team_list(ws=ws, query=query, offset=list_offset(request))
    return list_page(
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
        member_form = ws_forms.MemberForm(users=selectors.user_refs(ws=ws))
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

    def save(data):
        if team_id:
            return services.team_update(ws=ws, team_id=team_id, **data)
        return services.team_create(ws=ws, **data)

    return form_page(
        request,
        ws,
        form=ws_forms.TeamForm(posted(request), initial=initial),
        action=save,
        success=_("Team saved."),
        done_url=_saved_url(ws, "team_detail", "team_list"),
        title=_("Edit team") if team_id else _("New team"),
        cancel_url=(
            url("team_detail", ws, team_id) if team_id else url("team_list", ws)
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
    """Ask, then delete a team, by name and with how many members it has."""
    what = _("the team")
    if request.method == "GET":
        team, members = selectors.team_get(ws=ws, team_id=team_id)
        what = ngettext(
            "the team %(name)s (%(count)s member)",
            "the team %(name)s (%(count)s members)",
            len(members),
        ) % {"name": team.name, "count": len(members)}
    return confirm_page(
        request,
        ws,
        what=what,
        action=lambda: services.team_delete(ws=ws, team_id=team_id),
        success=_("Team deleted."),
        done_url=url("team_list", ws),
        cancel_url=url("team_detail", ws, team_id),
    )


@require_http_methods(["GET", "POST"])
@workspace_page("teams", Scope.TEAMS_WRITE, Scope.TEAMS_WRITE)
def team_member_add(request, ws: Workspace, team_id: str):
    """Add a user to the team with a role."""
    users = selectors.refs_if_granted(ws, selectors.user_refs)
    detail_url = url("team_detail", ws, team_id)
    return form_page(
        request,
        ws,
        form=ws_forms.MemberForm(posted(request), users=users),
        action=lambda data: services.team_add_member(
            ws=ws, team_id=team_id, user_id=data["user"], role=data["role"]
        ),
        success=_("Member added."),
        done_url=detail_url,
        title=_("Add a team member"),
        cancel_url=detail_url,
    )


@require_http_methods(["GET", "POST"])
@workspace_page("teams", Scope.TEAMS_WRITE, Scope.TEAMS_WRITE)
def team_member_remove(request, ws: Workspace, team_id: str, user_id: str):
    """Ask, naming who and which team, then remove them from it."""
    question = ""
    if request.method == "GET":
        team, members = selectors.team_get(ws=ws, team_id=team_id)
        who = next((m.user.name for m in members if m.user.id == user_id), user_id)
        question = _(
            "Remove %(who)s from the team %(team)s in PagerDuty? They keep their "
            "account; adding them back needs their team role again."
        ) % {"who": who, "team": team.name}
    back = url("team_detail", ws, team_id)
    return confirm_page(
        request,
        ws,
        what=_("the team member"),
        question=question,
        action=lambda: services.team_remove_member(
            ws=ws, team_id=team_id, user_id=user_id
        ),
        success=_("Member removed."),
        done_url=back,
        cancel_url=back,
    )
