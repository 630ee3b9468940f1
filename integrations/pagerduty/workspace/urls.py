"""Workspace URLs, mounted at tenants/<tenant_id>/pagerduty/ (namespace
`integrations`)."""

from django.urls import path, register_converter

from integrations.pagerduty.workspace import views


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
]
