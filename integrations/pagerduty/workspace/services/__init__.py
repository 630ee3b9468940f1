"""Writes to a tenant's PagerDuty account, one module per resource.

Each is an `operations.operation`: it checks its scope and arguments before
anything is sent, invalidates the connection's cache and is audited. They
raise the client's PagerDutyError subclasses unchanged, so a front door can
show PagerDuty's own message (e.g. "Incident Already Resolved").
"""

from integrations.pagerduty.workspace.inputs import EscalationRule, EscalationTarget
from integrations.pagerduty.workspace.services.alert_grouping import (
    AlertGroupingInput,
    alert_grouping_setting_create,
    alert_grouping_setting_delete,
    alert_grouping_setting_update,
)
from integrations.pagerduty.workspace.services.catalog import (
    ServiceChanges,
    ServiceInput,
    service_change,
    service_create,
    service_delete,
    service_set_enabled,
    service_update,
)
from integrations.pagerduty.workspace.services.escalation_policies import (
    EscalationPolicyInput,
    escalation_policy_create,
    escalation_policy_update,
)
from integrations.pagerduty.workspace.services.incidents import (
    BulkStopped,
    incident_acknowledge,
    incident_add_note,
    incident_add_responders,
    incident_bulk_change,
    incident_bulk_update,
    incident_create,
    incident_escalate,
    incident_reassign,
    incident_reopen,
    incident_resolve,
    incident_set_urgency,
    incident_snooze,
)
from integrations.pagerduty.workspace.services.people import (
    team_add_member,
    team_create,
    team_delete,
    team_remove_member,
    team_update,
    user_create,
    user_delete,
    user_update,
)
from integrations.pagerduty.workspace.services.schedules import (
    schedule_override_create,
    schedule_override_delete,
)
from integrations.pagerduty.workspace.services.webhooks import (
    webhook_create,
    webhook_delete,
    webhook_enable,
    webhook_ping,
    webhook_update,
)

__all__ = [
    "BulkStopped",
    "EscalationPolicyInput",
    "EscalationRule",
    "EscalationTarget",
    "ServiceInput",
    "escalation_policy_create",
    "escalation_policy_update",
    "incident_acknowledge",
    "incident_add_note",
    "incident_bulk_update",
    "incident_create",
    "incident_escalate",
    "incident_reassign",
    "incident_reopen",
    "incident_resolve",
    "incident_set_urgency",
    "incident_snooze",
    "schedule_override_create",
    "schedule_override_delete",
    "service_create",
    "service_delete",
    "service_set_enabled",
    "service_update",
    "team_add_member",
    "team_create",
    "team_delete",
    "team_remove_member",
    "team_update",
    "user_create",
    "user_delete",
    "user_update",
    "webhook_create",
    "webhook_delete",
    "webhook_enable",
    "webhook_ping",
    # Agent incident writes (tools-incidents)
    "incident_add_responders",
    "incident_bulk_change",
    # Catalogue tools
    "AlertGroupingInput",
    "ServiceChanges",
    "alert_grouping_setting_create",
    "alert_grouping_setting_delete",
    "alert_grouping_setting_update",
    "service_change",
    "webhook_update",
]
