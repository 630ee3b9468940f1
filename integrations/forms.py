from django import forms
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from integrations import validators
from integrations.models import (
    AppType,
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
        required=False,
        help_text=_(
            "Scoped apps: incidents.read, incidents.write and services.read "
            "are required."
        ),
    )
    app_type = forms.ChoiceField(
        label=_("App type"),
        choices=AppType.choices,
        required=False,
        widget=forms.RadioSelect,
        help_text=_(
            "Scoped OAuth: scopes per resource, users of the account that "
            "registered the app only. Classic User OAuth: Read or "
            "Read/Write, users of any PagerDuty account."
        ),
    )
    classic_scope = forms.ChoiceField(
        label=_("Classic permission scope"),
        choices=[
            (pd_scopes.CLASSIC_READ, _("Read")),
            (pd_scopes.CLASSIC_WRITE, _("Read/Write")),
        ],
        required=False,
        widget=forms.RadioSelect,
        help_text=_(
            "Classic apps: the one scope chosen under Set Permission Scopes "
            "on PagerDuty (Read = read, Read/Write = write)."
        ),
    )

    class Meta:
        model = OAuthClient
        fields = ["app_type", "client_id", "scopes", "region", "subdomain", "enabled"]
        labels = {"client_id": _("Client ID"), "app_type": _("App type")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            if self.instance.is_classic:
                self.initial["scopes"] = sorted(pd_scopes.MINIMUM_SCOPES)
                self.initial["classic_scope"] = self.instance.scopes
            else:
                self.initial["scopes"] = self.instance.scope_list
        if not self.initial.get("classic_scope"):
            self.initial["classic_scope"] = pd_scopes.CLASSIC_WRITE

    def clean_subdomain(self):
        return self.cleaned_data["subdomain"].strip().lower()

    def clean_app_type(self):
        # Forms posted without the field (older admin pages, scripts) keep
        # the app's type.
        return self.cleaned_data["app_type"] or self.instance.app_type

    def clean_scopes(self):
        return list(self.cleaned_data["scopes"])

    def _clean_app_scopes(self, cleaned: dict) -> None:
        """Set `scopes` from the table (Scoped) or the Classic choice.

        `scopes` leaves here as the stored string or not at all, never as
        the list of ticked boxes.
        """
        if "scopes" not in cleaned:
            return
        if cleaned.get("app_type") == AppType.CLASSIC:
            chosen = cleaned.get("classic_scope")
            if not chosen:
                self.add_error(
                    "classic_scope",
                    forms.ValidationError(
                        _("Choose Read or Read/Write, as set on the app."),
                        code="classic_scope_required",
                    ),
                )
                del cleaned["scopes"]
                return
            cleaned["scopes"] = chosen
            return
        try:
            if not cleaned["scopes"]:
                raise forms.ValidationError(
                    self.fields["scopes"].error_messages["required"], code="required"
                )
            validators.validate_scopes(cleaned["scopes"])
        except forms.ValidationError as exc:
            del cleaned["scopes"]
            self.add_error("scopes", exc)
            return
        cleaned["scopes"] = pd_scopes.canonical(cleaned["scopes"])

    def clean(self):
        cleaned = super().clean()
        self._clean_app_scopes(cleaned)
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
        """Return the names of the model fields this submission changes."""
        changed = [
            name
            for name in self.changed_data
            if name not in ("new_client_secret", "classic_scope")
        ]
        if self.cleaned_data.get("app_type") == self.initial.get("app_type"):
            changed = [name for name in changed if name != "app_type"]
        classic = self.cleaned_data.get("app_type") == AppType.CLASSIC
        if classic and "classic_scope" in self.changed_data and "scopes" not in changed:
            changed.append("scopes")
        return changed


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
        fields = ["app_type", "client_id", "region", "subdomain", "scopes"]
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
                "https://<subdomain>.pagerduty.com. Needed to verify a Scoped "
                "app's credentials."
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

    @property
    def is_classic(self) -> bool:
        """Return whether the form shows a Classic app (bound data first)."""
        value = self["app_type"].value() or self.instance.app_type
        return value == AppType.CLASSIC

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


class TenantAppForm(PagerDutyConfigForm):
    """A tenant admin's own app: scopes limited to what the environment allows."""

    confirm_client_id_change = forms.BooleanField(
        label=_("I understand that this tenant will have to reconnect PagerDuty."),
        required=False,
    )

    def __init__(self, *args, allowed_scopes, classic_scopes, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = set(allowed_scopes)
        self.fields["scopes"].choices = [
            c for c in pd_scopes.Scope.choices if c[0] in allowed
        ]
        self.fields["classic_scope"].choices = [
            c for c in self.fields["classic_scope"].choices if c[0] in classic_scopes
        ]
        if self.initial.get("classic_scope") not in classic_scopes:
            self.initial["classic_scope"] = None


class TenantAppsSettingForm(forms.Form):
    """Staff's switch for tenants' own apps and the scopes they may ask for."""

    allowed = forms.BooleanField(required=False)
    tenant_app_scopes = forms.MultipleChoiceField(
        choices=pd_scopes.Scope.choices, required=False
    )

    def clean_tenant_app_scopes(self):
        chosen = self.cleaned_data["tenant_app_scopes"]
        validators.validate_scopes(chosen)
        return chosen


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
