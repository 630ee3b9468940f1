"""Forms of the governance pages: a tool's policy, a decision on a held call."""

import json

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from integrations.gateway.models import PolicyAction
from integrations.gateway.policies import validate_conditions
from integrations.gateway.tools.registry import all_tools


class ToolPolicyForm(forms.Form):
    """One tool's rule; the empty action removes it (back to the layer below)."""

    tool = forms.ChoiceField(label=_("Tool"))
    action = forms.ChoiceField(
        choices=[("", _("Inherit (no rule)")), *PolicyAction.choices],
        required=False,
        label=_("Action"),
    )
    conditions = forms.CharField(
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("Only when (JSON)"),
        help_text=_(
            'Optional. A list such as [{"when": "incident_count", "op": "gt", '
            '"value": 5}]; subjects: incident_count, urgency, status, '
            "delivery_host, role, client, hour_utc."
        ),
    )
    self_approval = forms.BooleanField(
        required=False, label=_("The requester may approve their own held call")
    )
    tenant_may_loosen = forms.BooleanField(
        required=False, label=_("Tenant admins may loosen this rule")
    )

    def __init__(self, *args, environment_level: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tool"].choices = [(t.name, t.name) for t in all_tools()]
        if not environment_level:
            del self.fields["tenant_may_loosen"]

    def clean_conditions(self):
        text = self.cleaned_data["conditions"].strip()
        if not text:
            return []
        try:
            value = json.loads(text)
        except ValueError:
            raise ValidationError(_("Conditions must be JSON."), code="json") from None
        return validate_conditions(value)


class ApprovalDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", _("Approve")), ("reject", _("Reject"))]
    )
    reason = forms.CharField(
        required=False,
        max_length=500,
        label=_("Reason"),
        widget=forms.TextInput(attrs={"size": 60}),
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") == "reject" and not data.get("reason", "").strip():
            self.add_error("reason", _("Say why you reject it; the agent reads it."))
        return data
