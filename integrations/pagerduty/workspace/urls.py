"""Workspace URLs, mounted at tenants/<tenant_id>/pagerduty/ (namespace
`integrations`)."""

from django.urls import path, register_converter

from integrations.pagerduty.workspace.views import (
    catalog,
    escalation_policies,
    export,
    incidents,
    live,
    overview,
    people,
    schedules,
    webhooks,
)


class PagerDutyIdConverter:
    """A PagerDuty object ID: letters and digits only."""

    regex = "[A-Za-z0-9]{1,40}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(PagerDutyIdConverter, "pdid")

urlpatterns = [
    path("", overview.workspace_overview, name="workspace_overview"),
    path("incidents/", incidents.incident_list, name="incident_list"),
    path("incidents/new/", incidents.incident_create, name="incident_create"),
    path("incidents/bulk/", incidents.incident_bulk, name="incident_bulk"),
    path("incidents/export/", export.incident_export, name="incident_export"),
    path(
        "incidents/export.csv",
        export.incident_export_csv,
        name="incident_export_csv",
    ),
    path(
        "incidents/changes/",
        live.incident_changes,
        name="incident_changes",
    ),
    path(
        "incidents/<pdid:incident_id>/",
        incidents.incident_detail,
        name="incident_detail",
    ),
    path(
        "incidents/<pdid:incident_id>/acknowledge/",
        incidents.incident_acknowledge,
        name="incident_acknowledge",
    ),
    path(
        "incidents/<pdid:incident_id>/resolve/",
        incidents.incident_resolve,
        name="incident_resolve",
    ),
    path(
        "incidents/<pdid:incident_id>/reopen/",
        incidents.incident_reopen,
        name="incident_reopen",
    ),
    path(
        "incidents/<pdid:incident_id>/reassign/",
        incidents.incident_reassign,
        name="incident_reassign",
    ),
    path(
        "incidents/<pdid:incident_id>/urgency/",
        incidents.incident_urgency,
        name="incident_urgency",
    ),
    path(
        "incidents/<pdid:incident_id>/escalate/",
        incidents.incident_escalate,
        name="incident_escalate",
    ),
    path(
        "incidents/<pdid:incident_id>/snooze/",
        incidents.incident_snooze,
        name="incident_snooze",
    ),
    path(
        "incidents/<pdid:incident_id>/notes/",
        incidents.incident_note,
        name="incident_note",
    ),
    path("services/", catalog.service_list, name="service_list"),
    path("services/new/", catalog.service_create, name="service_create"),
    path("services/<pdid:service_id>/", catalog.service_detail, name="service_detail"),
    path("services/<pdid:service_id>/edit/", catalog.service_edit, name="service_edit"),
    path(
        "services/<pdid:service_id>/enable/",
        catalog.service_enable,
        name="service_enable",
    ),
    path(
        "services/<pdid:service_id>/disable/",
        catalog.service_disable,
        name="service_disable",
    ),
    path(
        "services/<pdid:service_id>/delete/",
        catalog.service_delete,
        name="service_delete",
    ),
    path("oncalls/", overview.oncall_list, name="oncall_list"),
    path("schedules/", schedules.schedule_list, name="schedule_list"),
    path(
        "schedules/<pdid:schedule_id>/",
        schedules.schedule_detail,
        name="schedule_detail",
    ),
    path(
        "schedules/<pdid:schedule_id>/overrides/new/",
        schedules.schedule_override_create,
        name="schedule_override_create",
    ),
    path(
        "schedules/<pdid:schedule_id>/overrides/<pdid:override_id>/delete/",
        schedules.schedule_override_delete,
        name="schedule_override_delete",
    ),
    path(
        "escalation-policies/",
        escalation_policies.escalation_policy_list,
        name="escalation_policy_list",
    ),
    path(
        "escalation-policies/new/",
        escalation_policies.escalation_policy_create,
        name="escalation_policy_create",
    ),
    path(
        "escalation-policies/<pdid:policy_id>/",
        escalation_policies.escalation_policy_detail,
        name="escalation_policy_detail",
    ),
    path(
        "escalation-policies/<pdid:policy_id>/edit/",
        escalation_policies.escalation_policy_edit,
        name="escalation_policy_edit",
    ),
    path("users/", people.user_list, name="user_list"),
    path("users/new/", people.user_create, name="user_create"),
    path("users/<pdid:user_id>/", people.user_detail, name="user_detail"),
    path("users/<pdid:user_id>/edit/", people.user_edit, name="user_edit"),
    path("users/<pdid:user_id>/delete/", people.user_delete, name="user_delete"),
    path("teams/", people.team_list, name="team_list"),
    path("teams/new/", people.team_create, name="team_create"),
    path("teams/<pdid:team_id>/", people.team_detail, name="team_detail"),
    path("teams/<pdid:team_id>/edit/", people.team_edit, name="team_edit"),
    path("teams/<pdid:team_id>/delete/", people.team_delete, name="team_delete"),
    path(
        "teams/<pdid:team_id>/members/new/",
        people.team_member_add,
        name="team_member_add",
    ),
    path(
        "teams/<pdid:team_id>/members/<pdid:user_id>/remove/",
        people.team_member_remove,
        name="team_member_remove",
    ),
    path("webhooks/", webhooks.webhook_list, name="webhook_list"),
    path("webhooks/new/", webhooks.webhook_create, name="webhook_create"),
    path(
        "webhooks/<pdid:subscription_id>/delete/",
        webhooks.webhook_delete,
        name="webhook_delete",
    ),
    path(
        "webhooks/<pdid:subscription_id>/enable/",
        webhooks.webhook_enable,
        name="webhook_enable",
    ),
    path(
        "webhooks/<pdid:subscription_id>/ping/",
        webhooks.webhook_ping,
        name="webhook_ping",
    ),
]
