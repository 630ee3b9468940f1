from django import forms
from django.utils.translation import gettext_lazy as _

from integrations import validators
from integrations.models import OAuthClient
from integrations.pagerduty import scopes as pd_scopes


class OAuthClientForm(forms.ModelForm):
    """The app's settings; the secret is write-only and never rendered back."""

    new_client_secret = forms.CharField(
        label=_("Client Secret"),
        required=False,
        widget=forms.PasswordInput(
            render_value=False, attrs={"autocomplete": "new-password"}
        ),
        validators=[validators.validate_client_secret],
        help_text=_("Leave empty to keep the stored secret."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=pd_scopes.Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=sorted(pd_scopes.MINIMUM_SCOPES),
        help_text=_("incidents.read, incidents.write and services.read are required."),
    )

    class Meta:
        model = OAuthClient
        fields = ["client_id", "scopes", "region", "subdomain", "enabled"]
        labels = {"client_id": _("Client ID")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["scopes"] = self.instance.scope_list

    def clean_subdomain(self):
        return self.cleaned_data["subdomain"].strip().lower()

    def clean_scopes(self):
        chosen = self.cleaned_data["scopes"]
        validators.validate_scopes(chosen)
        return pd_scopes.canonical(chosen)

    def clean(self):
        cleaned = super().clean()
        secret_missing = not cleaned.get("new_client_secret")
        if (
            secret_missing
            and not self.instance.has_secret
            and "new_client_secret" not in self.errors
        ):
            self.add_error(
                "new_client_secret",
                forms.ValidationError(
                    _("Enter the Client Secret PagerDuty showed once."),
                    code="secret_required",
                ),
            )
        return cleaned

    @property
    def audited_changes(self) -> list[str]:
        """Return the names of the fields this submission changes."""
        return [name for name in self.changed_data if name != "new_client_secret"]
