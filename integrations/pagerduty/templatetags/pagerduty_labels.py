"""Words for PagerDuty's enum values: `{{ incident.status|status_label }}`."""

from django import template
from django.utils.translation import gettext as _

from integrations.pagerduty.workspace.access import (
    LinkRequired,
    MissingScope,
    NotAllowed,
)
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


@register.filter
def write_block(ws, scope: str) -> str:
    """Return why this person can't use a write control ("" when they can)."""
    try:
        ws.require(scope)
    except MissingScope:
        return _("needs %(scope)s") % {"scope": scope}
    except (LinkRequired, NotAllowed) as exc:
        return exc.message
    return ""
