"""Filters of the tool-call lists, read from the query string."""

from django import forms
from django.utils.translation import gettext_lazy as _

from integrations.gateway.models import AgentBudget, MaskingRule, ToolCall
from integrations.gateway.tools.registry import all_tools
from integrations.models import Environment, Tenant

TIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"]


class ToolCallFilterForm(forms.Form):
    """Narrow tool calls by tool, outcome, person, agent and time.

    Staff also narrow by environment and tenant.
    """

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

    user = forms.CharField(
        required=False,
        max_length=150,
        label=_("Person"),
        widget=forms.TextInput(attrs={"placeholder": _("Person")}),
    )
    client = forms.CharField(
        required=False,
        max_length=255,
        label=_("Agent"),
        widget=forms.TextInput(attrs={"placeholder": _("Agent")}),
    )
    since = forms.DateTimeField(
        required=False,
        label=_("From (UTC)"),
        input_formats=TIME_FORMATS,
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
        ),
    )
    until = forms.DateTimeField(
        required=False,
        label=_("Until (UTC)"),
        input_formats=TIME_FORMATS,
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
        ),
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

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since >= until:
            raise forms.ValidationError(
                _("“From” must be before “Until”."), code="time_range"
            )
        for name in ("user", "client"):
            cleaned[name] = (cleaned.get(name) or "").strip()
        return cleaned

    def filters(self) -> dict:
        """Return the selector's keyword arguments from valid data."""
        data = self.cleaned_data if self.is_valid() else {}
        return {
            key: data.get(key) or default
            for key, default in (
                ("environment", None),
                ("tenant", None),
                ("tool", ""),
                ("outcome", ""),
                ("user", ""),
                ("client", ""),
                ("since", None),
                ("until", None),
            )
            if key in self.fields
        }


class MaskingRuleForm(forms.ModelForm):
    """Add a masking rule: what to mask, the field or pattern, which tool."""

    class Meta:
        model = MaskingRule
        fields = ["kind", "value", "tool"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tool"] = forms.ChoiceField(
            required=False,
            label=_("Tool"),
            choices=[
                ("", _("Every tool")),
                *((tool.name, tool.name) for tool in all_tools()),
            ],
        )


class AgentBudgetForm(forms.ModelForm):
    """An environment's per-minute budgets; an empty field keeps the default."""

    class Meta:
        model = AgentBudget
        fields = ["tenant", "user", "client", "tool"]

    def __init__(self, *args, defaults: dict[str, int], **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            default = defaults.get(name) or _("unlimited")
            field.help_text = _("Empty: the default, %(default)s.") % {
                "default": default
            }
            field.widget.attrs["placeholder"] = str(default)
