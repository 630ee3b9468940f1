"""Words for PagerDuty's enum values: `{{ incident.status|status_label }}`."""

from django import template
from django.utils.translation import gettext as _

from integrations.pagerduty.web import web_link
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
def pagerduty_link(html_url) -> str:
    """Return an "Open in PagerDuty" address (the sandbox's in the demo)."""
    return web_link(html_url)


@register.filter
def minutes(value) -> str:
    """Return a duration in minutes as people say it: "1 h 30 min"."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        return ""
    hours, rest = divmod(value, 60)
    if not hours:
        return _("%(m)s min") % {"m": rest}
    if not rest:
        return _("%(h)s h") % {"h": hours}
    return _("%(h)s h %(m)s min") % {"h": hours, "m": rest}


@register.filter
def seconds(value) -> str:
    """Return a duration in seconds in minutes and hours ("4 h", "45 s")."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        return ""
    if value % 60:
        return _("%(s)s s") % {"s": value} if value < 60 else minutes(value // 60)
    return minutes(value // 60)


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
