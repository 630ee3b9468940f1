"""Words for PagerDuty's enum values: `{{ incident.status|status_label }}`."""

from django import template

from integrations.pagerduty.workspace.views.presentation import (
    ROLE_LABELS,
    SERVICE_STATUS_LABELS,
    STATUS_LABELS,
    TARGET_LABELS,
    URGENCY_LABELS,
    label,
)

register = template.Library()


@register.filter
def status_label(value: str) -> str:
    return label(STATUS_LABELS, value)


@register.filter
def urgency_label(value: str) -> str:
    return label(URGENCY_LABELS, value)


@register.filter
def service_status_label(value: str) -> str:
    return label(SERVICE_STATUS_LABELS, value)


@register.filter
def role_label(value: str) -> str:
    return label(ROLE_LABELS, value)


@register.filter
def target_label(value: str) -> str:
    return label(TARGET_LABELS, value)
