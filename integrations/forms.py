from django import forms
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from integrations import validators
from integrations.models import (
    AuditAction,
    Environment,
    Membership,
    OAuthClient,
    Tenant,
)
from integrations.pagerduty import scopes as pd_scopes
from portal.form_renderers import FastWidgetRenderer


class OAuthClientForm(forms.ModelForm):
    """The app's settings; the secret is write-only and never rendered back."""

    default_renderer = FastWidgetRenderer
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


class PagerDutyConfigForm(OAuthClientForm):
    """The portal's configuration form; enabling is a separate action.

    Changing the Client ID of a configured app disconnects every tenant,
    so it needs the new app's secret and an explicit confirmation.
    """

    confirm_client_id_change = forms.BooleanField(
        label=_("I understand that every tenant will have to reconnect PagerDuty."),
        required=False,
    )

    class Meta(OAuthClientForm.Meta):
        fields = ["client_id", "region", "subdomain", "scopes"]
        widgets = {
            "region": forms.RadioSelect,
            "client_id": forms.TextInput(
                attrs={"autocomplete": "off", "spellcheck": "false"}
            ),
            "subdomain": forms.TextInput(
                attrs={"autocomplete": "off", "spellcheck": "false"}
            ),
        }
        labels = {
            "client_id": _("Client ID"),
            "region": _("Service region"),
            "subdomain": _("PagerDuty subdomain"),
        }
        help_texts = {
            "subdomain": _(
                "The account that registered the app, as in "
                "https://<subdomain>.pagerduty.com. Needed to verify the "
                "credentials."
            ),
            "region": _("Where the PagerDuty account is hosted."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [
            c for c in self.fields["region"].choices if c[0]
        ]
        if self.instance.pk:
            self.fields["new_client_secret"].help_text = _(
                "Leave empty to keep the stored secret."
            )
        else:
            self.fields["new_client_secret"].help_text = ""

    @property
    def client_id_change_pending(self) -> bool:
        return bool(self.instance.pk) and "client_id" in self.changed_data

    @cached_property
    def selected_scopes(self) -> list[str]:
        """Return the ticked scopes in PagerDuty's order, bound data first.

        Cached: the scope table asks once per checkbox.
        """
        value = self["scopes"].value() or []
        if isinstance(value, str):
            value = pd_scopes.split(value)
        return pd_scopes.split(pd_scopes.canonical(value))

    def clean(self):
        cleaned = super().clean()
        if not self.client_id_change_pending or "client_id" in self.errors:
            return cleaned
        if not cleaned.get("new_client_secret") and (
            "new_client_secret" not in self.errors
        ):
            self.add_error(
                "new_client_secret",
                forms.ValidationError(
                    _("A new Client ID comes with its own Client Secret: enter it."),
                    code="secret_required_for_new_client",
                ),
            )
        if not cleaned.get("confirm_client_id_change"):
            self.add_error(
                "confirm_client_id_change",
                forms.ValidationError(
                    _(
                        "Changing the Client ID disconnects every tenant of this "
                        "environment: each will have to reconnect PagerDuty. "
                        "Tick the box to confirm."
                    ),
                    code="confirm_client_id_change",
                ),
            )
        return cleaned


class AuditFilterForm(forms.Form):
    """The audit log's filters, read from the query string."""

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
    actor = forms.CharField(required=False, max_length=150, label=_("Actor"))
    action = forms.ChoiceField(
        choices=[("", _("All actions")), *AuditAction.choices],
        required=False,
        label=_("Action"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tenant"].label_from_instance = lambda tenant: (
            f"{tenant.name} ({tenant.environment.name})"
        )


class GatewayUrlForm(forms.Form):
    """An environment's gateway base URL: where PagerDuty sends people back."""

    gateway_url = forms.CharField(
        label=_("Gateway base URL"),
        required=False,
        max_length=200,
        validators=[validators.validate_base_url],
        help_text=_(
            "The public address this environment's users reach the portal at, "
            "such as https://portal.example.com, with no trailing slash. The "
            "redirect URL is this plus /integration-callback. Empty: the "
            "portal's own address."
        ),
        widget=forms.URLInput(attrs={"placeholder": "https://portal.example.com"}),
    )


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email"), max_length=254)
    role = forms.ChoiceField(
        label=_("Role"),
        choices=Membership.Role.choices,
        initial=Membership.Role.MEMBER,
        help_text=_(
            "Admins connect and disconnect PagerDuty, invite people and change "
            "roles; members use the workspace."
        ),
    )


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)


class InvitedAccountForm(forms.Form):
    """The account an invited person creates (their email is the invited one)."""

    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error(
                "password2",
                forms.ValidationError(
                    _("The two passwords differ."), code="password_mismatch"
                ),
            )
        return data
