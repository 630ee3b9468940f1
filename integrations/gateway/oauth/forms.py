"""The consent form: DOT's hidden authorization fields plus the tenant."""

from django import forms
from django.utils.translation import gettext_lazy as _
from oauth2_provider.forms import AllowForm


class TenantChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class ConsentForm(AllowForm):
    """Authorize a client for one of the user's tenants, optionally read only.

    `tenants` limits the choice to the user's own tenants served by this
    gateway, so a forged tenant id is an invalid choice, never a grant.
    """

    tenant = TenantChoiceField(
        queryset=None,
        label=_("Tenant"),
        empty_label=None,
        required=False,
        error_messages={"invalid_choice": _("Choose one of your tenants.")},
    )
    read_only = forms.BooleanField(
        label=_("Read only: the agent may read but not change anything"),
        required=False,
    )

    def __init__(self, *args, tenants, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tenant"].queryset = tenants
        if len(tenants) == 1:
            self.fields["tenant"].initial = tenants[0].pk

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("allow") and not cleaned.get("tenant") and not self.errors:
            self.add_error("tenant", _("Choose one of your tenants."))
        return cleaned
