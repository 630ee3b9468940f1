"""Workspace URLs, mounted at tenants/<tenant_id>/pagerduty/ (namespace
`integrations`)."""

from django.urls import path, register_converter

from integrations.pagerduty.workspace import views, views_export, views_live
from integrations.pagerduty.workspace import views_directory as directory


class PagerDutyIdConverter:
    """A PagerDuty object ID: letters and digits only."""

    regex = "[A-Za-z0-9]{1,40}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(PagerDutyIdConverter, "pdid")

urlpatterns = [
    path("", views.workspace_overview, name="workspace_overview"),
    path("incidents/", views.incident_list, name="incident_list"),
    path("incidents/new/", views.incident_create, name="incident_create"),
    path("incidents/bulk/", views.incident_bulk, name="incident_bulk"),
    path("incidents/export/", views_export.incident_export, name="incident_export"),
    path(
        "incidents/export.csv",
        views_export.incident_export_csv,
        name="incident_export_csv",
    ),
    path(
        "incidents/changes/",
        views_live.incident_changes,
        name="incident_changes",
    ),
    path(
        "incidents/<pdid:incident_id>/", views.incident_detail, name="incident_detail"
    ),
    path(
        "incidents/<pdid:incident_id>/acknowledge/",
        views.incident_acknowledge,
        name="incident_acknowledge",
    ),
    path(
        "incidents/<pdid:incident_id>/resolve/",
        views.incident_resolve,
        name="incident_resolve",
    ),
    path(
        "incidents/<pdid:incident_id>/reassign/",
        views.incident_reassign,
        name="incident_reassign",
    ),
    path(
        "incidents/<pdid:incident_id>/urgency/",
        views.incident_urgency,
        name="incident_urgency",
    ),
    path(
        "incidents/<pdid:incident_id>/escalate/",
        views.incident_escalate,
        name="incident_escalate",
    ),
    path(
        "incidents/<pdid:incident_id>/snooze/",
        views.incident_snooze,
        name="incident_snooze",
    ),
    path(
        "incidents/<pdid:incident_id>/notes/", views.incident_note, name="incident_note"
    ),
    path("services/", views.service_list, name="service_list"),
    path("services/new/", views.service_create, name="service_create"),
    path("services/<pdid:service_id>/", views.service_detail, name="service_detail"),
    path("services/<pdid:service_id>/edit/", views.service_edit, name="service_edit"),
    path(
        "services/<pdid:service_id>/enable/",
        views.service_enable,
        name="service_enable",
    ),
    path(
        "services/<pdid:service_id>/disable/",
        views.service_disable,
        name="service_disable",
    ),
    path(
        "services/<pdid:service_id>/delete/",
        views.service_delete,
        name="service_delete",
    ),
    path("oncalls/", views.oncall_list, name="oncall_list"),
    path("schedules/", directory.schedule_list, name="schedule_list"),
    path(
        "schedules/<pdid:schedule_id>/",
        directory.schedule_detail,
        name="schedule_detail",
    ),
    path(
        "schedules/<pdid:schedule_id>/overrides/new/",
        directory.schedule_override_create,
        name="schedule_override_create",
    ),
    path(
        "schedules/<pdid:schedule_id>/overrides/<pdid:override_id>/delete/",
        directory.schedule_override_delete,
        name="schedule_override_delete",
    ),
    path(
        "escalation-policies/",
        directory.escalation_policy_list,
        name="escalation_policy_list",
    ),
    path(
        "escalation-policies/new/",
        directory.escalation_policy_create,
        name="escalation_policy_create",
    ),
    path(
        "escalation-policies/<pdid:policy_id>/",
        directory.escalation_policy_detail,
        name="escalation_policy_detail",
    ),
    path(
        "escalation-policies/<pdid:policy_id>/edit/",
        directory.escalation_policy_edit,
        name="escalation_policy_edit",
    ),
    path("users/", directory.user_list, name="user_list"),
    path("users/new/", directory.user_create, name="user_create"),
    path("users/<pdid:user_id>/", directory.user_detail, name="user_detail"),
    path("users/<pdid:user_id>/edit/", directory.user_edit, name="user_edit"),
    path("users/<pdid:user_id>/delete/", directory.user_delete, name="user_delete"),
    path("teams/", directory.team_list, name="team_list"),
    path("teams/new/", directory.team_create, name="team_create"),
    path("teams/<pdid:team_id>/", directory.team_detail, name="team_detail"),
    path("teams/<pdid:team_id>/edit/", directory.team_edit, name="team_edit"),
    path("teams/<pdid:team_id>/delete/", directory.team_delete, name="team_delete"),
    path(
        "teams/<pdid:team_id>/members/new/",
        directory.team_member_add,
        name="team_member_add",
    ),
    path(
        "teams/<pdid:team_id>/members/<pdid:user_id>/remove/",
        directory.team_member_remove,
        name="team_member_remove",
    ),
    path("webhooks/", directory.webhook_list, name="webhook_list"),
    path("webhooks/new/", directory.webhook_create, name="webhook_create"),
    path(
        "webhooks/<pdid:subscription_id>/delete/",
        directory.webhook_delete,
        name="webhook_delete",
    ),
    path(
        "webhooks/<pdid:subscription_id>/enable/",
        directory.webhook_enable,
        name="webhook_enable",
    ),
    path(
        "webhooks/<pdid:subscription_id>/ping/",
        directory.webhook_ping,
        name="webhook_ping",
    ),
]
