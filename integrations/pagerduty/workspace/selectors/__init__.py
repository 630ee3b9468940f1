"""Reads from a tenant's PagerDuty account, cached per connection.

Each is an `operations.operation` (scope checked before anything is sent)
returning entities (`entities.py`), never page-shaped data.
"""

from integrations.pagerduty.workspace.selectors.alert_grouping import (
    CursorPage,
    alert_grouping_setting_get,
    alert_grouping_setting_list,
)
from integrations.pagerduty.workspace.selectors.alerts import (
    Alert,
    AlertPage,
    incident_alert_get,
    incident_alert_list,
)
from integrations.pagerduty.workspace.selectors.business_services import (
    business_service_dependencies,
    business_service_list,
    technical_service_dependencies,
)
from integrations.pagerduty.workspace.selectors.catalog import (
    ServicePage,
    service_get,
    service_list,
)
from integrations.pagerduty.workspace.selectors.change_events import (
    ChangeEvent,
    ChangeEventQuery,
    incident_change_events,
    service_change_events,
)
from integrations.pagerduty.workspace.selectors.escalation_policies import (
    escalation_policy_get,
    escalation_policy_list,
)
from integrations.pagerduty.workspace.selectors.event_orchestrations import (
    service_orchestration_get,
)
from integrations.pagerduty.workspace.selectors.incident_context import (
    incident_outlier,
    incident_past,
    incident_related,
)
from integrations.pagerduty.workspace.selectors.incidents import (
    MAX_FILTER_IDS,
    PAGE_SIZES,
    SORTS,
    STATUS_TABS,
    IncidentDetail,
    IncidentPage,
    IncidentQuery,
    IncidentSearch,
    OpenIncidents,
    StatusCounts,
    day_start,
    incident_fetch,
    incident_get,
    incident_list,
    incident_matches,
    incident_note_list,
    incident_search,
    incident_status_counts,
    incident_text_search,
    open_incidents,
    service_recent_incidents,
)
from integrations.pagerduty.workspace.selectors.log_entries import (
    LogEntryQuery,
    log_entry_get,
    log_entry_list,
)
from integrations.pagerduty.workspace.selectors.oncalls import (
    OnCallOverview,
    OnCallPolicy,
    oncall_by_policy,
    oncall_list,
    oncall_overview,
    oncall_page,
)
from integrations.pagerduty.workspace.selectors.people import (
    team_get,
    team_list,
    team_member_list,
    user_get,
    user_list,
)
from integrations.pagerduty.workspace.selectors.references import (
    escalation_policy_refs,
    my_team_refs,
    refs_if_granted,
    schedule_refs,
    service_refs,
    team_refs,
    user_refs,
)
from integrations.pagerduty.workspace.selectors.schedules import (
    ScheduleDetail,
    schedule_get,
    schedule_list,
    schedule_user_list,
)
from integrations.pagerduty.workspace.selectors.webhooks import (
    webhook_get,
    webhook_list,
)

__all__ = [
    "MAX_FILTER_IDS",
    "PAGE_SIZES",
    "SORTS",
    "STATUS_TABS",
    "IncidentDetail",
    "IncidentPage",
    "IncidentQuery",
    "IncidentSearch",
    "OnCallOverview",
    "OnCallPolicy",
    "OpenIncidents",
    "ScheduleDetail",
    "StatusCounts",
    "ServicePage",
    "day_start",
    "escalation_policy_get",
    "escalation_policy_list",
    "escalation_policy_refs",
    "my_team_refs",
    "incident_fetch",
    "incident_get",
    "incident_list",
    "incident_matches",
    "incident_search",
    "incident_text_search",
    "incident_status_counts",
    "oncall_by_policy",
    "oncall_list",
    "oncall_overview",
    "open_incidents",
    "refs_if_granted",
    "schedule_get",
    "schedule_list",
    "schedule_refs",
    "service_get",
    "service_list",
    "service_recent_incidents",
    "service_refs",
    "team_get",
    "team_list",
    "team_refs",
    "user_get",
    "user_list",
    "user_refs",
    "webhook_get",
    "webhook_list",
    # Incident context for agents (tools-incidents)
    "Alert",
    "AlertPage",
    "ChangeEvent",
    "ChangeEventQuery",
    "LogEntryQuery",
    "incident_alert_get",
    "incident_alert_list",
    "incident_change_events",
    "incident_note_list",
    "incident_outlier",
    "incident_past",
    "incident_related",
    "log_entry_get",
    "log_entry_list",
    "service_change_events",
    # Catalogue tools
    "CursorPage",
    "alert_grouping_setting_get",
    "alert_grouping_setting_list",
    "business_service_dependencies",
    "business_service_list",
    "service_orchestration_get",
    "technical_service_dependencies",
    # tools-people
    "oncall_page",
    "schedule_user_list",
    "team_member_list",
]
