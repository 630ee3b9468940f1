"""Filters of the tool-call lists, read from the query string."""

from django import forms
from django.utils.translation import gettext_lazy as _

from integrations.gateway.models import ToolCall
from integrations.gateway.tools.registry import all_tools
from integrations.models import Environment, Tenant


class ToolCallFilterForm(forms.Form):
    """Narrow tool calls by tool and outcome; staff also by environment and tenant."""

    environment = forms.ModelChoiceField(
        Environment.objects.all(),
        required=False,
        to_field_name="slug",
        empty_label=_("All environments"),
        label=_("Environment"),
    )
    tenant = forms.ModelChoiceField(
        Tenant.objects.select_related("environment"),
        required=False,
        empty_label=_("All tenants"),
        label=_("Tenant"),
    )
    tool = forms.ChoiceField(required=False, label=_("Tool"))
    outcome = forms.ChoiceField(
        choices=[("", _("All outcomes")), *ToolCall.Outcome.choices],
        required=False,
        label=_("Outcome"),
    )

    def __init__(self, *args, staff: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tool"].choices = [
            ("", _("All tools")),
            *((tool.name, tool.name) for tool in all_tools()),
        ]
        if staff:
            self.fields["tenant"].label_from_instance = lambda tenant: (
                f"{tenant.name} ({tenant.environment.name})"
            )
        else:
            del self.fields["environment"]
            del self.fields["tenant"]
