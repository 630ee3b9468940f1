"""Forms of the workspace: filters and every action's input."""

from django import forms
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from integrations.pagerduty.workspace import inputs
from integrations.pagerduty.workspace.selectors import PAGE_SIZES, SORTS, STATUS_TABS
from integrations.pagerduty.workspace.views.presentation import (
    ROLE_LABELS,
    TEAM_ROLE_LABELS,
)
from portal.form_renderers import FastWidgetRenderer

pd_id = RegexValidator(r"^[A-Za-z0-9]{1,40}$", _("Enter a PagerDuty ID."), "pd_id")
URGENCY_CHOICES = [("high", _("High")), ("low", _("Low"))]


def _choices(refs, blank):
    return [("", blank), *((ref.id, ref.name) for ref in refs)]


def picker(**attrs) -> dict:
    """Return a select's attributes that make it a searchable picker."""
    return {
        "data-picker": "",
        "data-picker-label": _("Filter"),
        "data-picker-placeholder": _("Type a name"),
        **attrs,
    }


class RefField(forms.CharField):
    """A PagerDuty object picked by name from a directory list.

    The value is the object's ID, checked as one; an ID that is not in the
    list (a link from another page, an object past the list's end) stays
    selectable under its ID rather than being refused.
    """

    def __init__(self, *, blank, **kwargs):
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("required", False)
        kwargs.setdefault("validators", [pd_id])
        kwargs.setdefault("widget", forms.Select(attrs=picker()))
        super().__init__(**kwargs)
        self.blank = blank

    def offer(self, refs, current: str = "") -> None:
        """Set the names to pick from; keep `current` listed if it is not."""
        choices = _choices(refs, self.blank)
        if (
            current
            and pd_id.regex.match(current)
            and current not in {ref.id for ref in refs}
        ):
            choices.append((current, current))
        self.widget.choices = choices


class IncidentFilterForm(forms.Form):
    default_renderer = FastWidgetRenderer

    status = forms.ChoiceField(
        choices=[(s, s) for s in STATUS_TABS], required=False, initial="triggered"
    )
    q = forms.CharField(
        label=_("Search incidents"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": _("Title, #number, service or person"),
                "class": "search-input",
            }
        ),
    )
    assigned = forms.ChoiceField(
        choices=[("", ""), ("me", _("Assigned to me"))], required=False
    )
    teams = forms.ChoiceField(
        choices=[("", ""), ("mine", _("My teams"))], required=False
    )
    urgency = forms.ChoiceField(
        label=_("Urgency"),
        choices=[("", _("Any urgency")), *URGENCY_CHOICES],
        required=False,
    )
    service = RefField(label=_("Service"), blank=_("Any service"))
    team = RefField(label=_("Team"), blank=_("Any team"))
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    sort = forms.ChoiceField(
        label=_("Sort"),
        choices=[
            ("newest", _("Newest first")),
            ("oldest", _("Oldest first")),
            ("number", _("Number")),
            ("urgency", _("Urgency")),
        ],
        required=False,
    )
    per_page = forms.TypedChoiceField(
        label=_("Per page"),
        choices=[(n, n) for n in PAGE_SIZES],
        coerce=int,
        required=False,
    )
    page = forms.IntegerField(min_value=1, max_value=10_000, required=False)

    # Rendered in the folding filter panel; the rest sit elsewhere on the page.
    PANEL = ("urgency", "service", "team", "since", "until", "sort", "per_page")

    def offer(self, *, services=(), teams=()) -> None:
        """Give the pickers their names (after validation: it needs none)."""
        data = self.data if self.is_bound else {}
        self.fields["service"].offer(services, data.get("service", ""))
        self.fields["team"].offer(teams, data.get("team", ""))

    @property
    def panel_fields(self):
        return [self[name] for name in self.PANEL]

    @property
    def active_filters(self) -> int:
        """Return how many panel filters are set (the folded panel says so)."""
        if not self.is_bound:
            return 0
        return sum(
            1
            for name in ("urgency", "service", "team", "since", "until")
            if self.data.get(name)
        )

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise forms.ValidationError(
                _("“From” must not be after “Until”."), code="window"
            )
        data["sort"] = data.get("sort") if data.get("sort") in SORTS else "newest"
        data["status"] = data.get("status") or "triggered"
        data["per_page"] = data.get("per_page") or 25
        data["page"] = data.get("page") or 1
        return data


class ConfirmForm(forms.Form):
    """An action with no input (acknowledge)."""


class OnCallFilterForm(forms.Form):
    schedule = RefField(label=_("Schedule"), blank=_("Any schedule"))
    user = RefField(label=_("User"), blank=_("Anyone"))

    def offer(self, *, schedules=(), users=()) -> None:
        """Give the pickers their names (after validation: it needs none)."""
        data = self.data if self.is_bound else {}
        self.fields["schedule"].offer(schedules, data.get("schedule", ""))
        self.fields["user"].offer(users, data.get("user", ""))


class ResolveForm(forms.Form):
    resolution = forms.CharField(
        label=_("Resolution note"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class NoteForm(forms.Form):
    content = forms.CharField(
        label=_("Note"), max_length=25_000, widget=forms.Textarea(attrs={"rows": 3})
    )


class UrgencyForm(forms.Form):
    urgency = forms.ChoiceField(label=_("Urgency"), choices=URGENCY_CHOICES)


class EscalateForm(forms.Form):
    level = forms.IntegerField(label=_("Escalation level"), min_value=1, max_value=20)


class SnoozeForm(forms.Form):
    minutes = forms.TypedChoiceField(
        label=_("Snooze for"),
        coerce=int,
        choices=[
            (30, _("30 minutes")),
            (60, _("1 hour")),
            (240, _("4 hours")),
            (480, _("8 hours")),
            (1440, _("24 hours")),
        ],
    )


class ReassignForm(forms.Form):
    user = forms.ChoiceField(
        label=_("User"), required=False, widget=forms.Select(attrs=picker())
    )
    escalation_policy = forms.ChoiceField(
        label=_("Escalation policy"),
        required=False,
        widget=forms.Select(attrs=picker()),
    )

    def __init__(self, *args, users=(), policies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = _choices(users, _("— choose a user —"))
        self.fields["escalation_policy"].choices = _choices(
            policies, _("— or an escalation policy —")
        )

    def clean(self):
        data = super().clean()
        if bool(data.get("user")) == bool(data.get("escalation_policy")):
            raise forms.ValidationError(
                _("Choose either a user or an escalation policy."), code="one_target"
            )
        return data


class IncidentCreateForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=1024)
    service = forms.ChoiceField(label=_("Service"), widget=forms.Select(attrs=picker()))
    urgency = forms.ChoiceField(
        label=_("Urgency"),
        choices=[("", _("The service's default")), *URGENCY_CHOICES],
        required=False,
    )
    details = forms.CharField(
        label=_("Details"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, services=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = _choices(services, _("— choose —"))


class BulkForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("acknowledge", _("Acknowledge")), ("resolve", _("Resolve"))]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.incident_ids = self.data.getlist("incident") if self.data else []

    def clean(self):
        data = super().clean()
        ids = [value for value in self.incident_ids if value]
        if not ids:
            raise forms.ValidationError(_("Select at least one incident."), code="none")
        if len(ids) > 1000 or any(not pd_id.regex.match(value) for value in ids):
            raise forms.ValidationError(_("The selection is not valid."), code="ids")
        data["incident_ids"] = ids
        return data


class ServiceForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=255)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    escalation_policy = forms.ChoiceField(
        label=_("Escalation policy"), widget=forms.Select(attrs=picker())
    )
    acknowledgement_timeout = forms.IntegerField(
        label=_("Acknowledgement timeout (minutes)"),
        required=False,
        min_value=1,
        max_value=7 * 24 * 60,
        help_text=_(
            "An acknowledged incident triggers again after this long, e.g. 30; "
            "240 is 4 h. Empty: it stays acknowledged."
        ),
    )
    auto_resolve_timeout = forms.IntegerField(
        label=_("Auto-resolve timeout (minutes)"),
        required=False,
        min_value=1,
        max_value=7 * 24 * 60,
        help_text=_(
            "An open incident is resolved after this long; 1440 is 24 h. "
            "Empty: incidents are never resolved automatically."
        ),
    )

    def __init__(self, *args, policies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["escalation_policy"].choices = _choices(policies, _("— choose —"))


class OverrideForm(forms.Form):
    user = forms.ChoiceField(label=_("Who"), widget=forms.Select(attrs=picker()))
    # In the viewer's time zone (Django reads them in the active zone).
    start = forms.DateTimeField(
        label=_("From"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    end = forms.DateTimeField(
        label=_("Until"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def __init__(self, *args, users=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = _choices(users, _("— choose —"))
        zone = timezone.get_current_timezone_name()
        self.fields["start"].label = _("From (%(zone)s)") % {"zone": zone}
        self.fields["end"].label = _("Until (%(zone)s)") % {"zone": zone}

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end <= start:
            raise forms.ValidationError(
                _("“Until” must be after “From”."), code="window"
            )
        return data


MAX_LEVELS = 20
DEFAULT_DELAY = 30


class EscalationPolicyForm(forms.Form):
    """Name, loops and levels; levels can be added, removed and reordered.

    Each level is `rule{n}_delay` (minutes) and `rule{n}_targets` (users and
    schedules, "user:ID" / "schedule:ID"); `levels` says how many there are.
    """

    name = forms.CharField(label=_("Name"), max_length=255)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    num_loops = forms.IntegerField(
        label=_("Repeat the levels this many times"),
        min_value=0,
        max_value=9,
        initial=0,
    )

    levels = forms.IntegerField(
        min_value=1, max_value=MAX_LEVELS, required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args, targets=(), levels=1, **kwargs):
        super().__init__(*args, **kwargs)
        self.level_count = max(1, min(levels, MAX_LEVELS))
        self.fields["levels"].initial = self.level_count
        for level in range(1, self.level_count + 1):
            self.fields[f"rule{level}_delay"] = forms.IntegerField(
                label=_("Level %(n)s: escalate after (minutes)") % {"n": level},
                min_value=1,
                max_value=1440,
                required=False,
                initial=DEFAULT_DELAY,
                help_text=_("90 is 1 h 30 min; at most 24 h."),
            )
            self.fields[f"rule{level}_targets"] = forms.MultipleChoiceField(
                label=_("Level %(n)s: notify") % {"n": level},
                choices=list(targets),
                required=False,
                widget=forms.SelectMultiple(attrs=picker(size=6)),
            )

    @property
    def level_rows(self) -> list[dict]:
        """Return each level's fields, for the editor's fieldsets."""
        return [
            {
                "number": level,
                "delay": self[f"rule{level}_delay"],
                "targets": self[f"rule{level}_targets"],
                "first": level == 1,
                "last": level == self.level_count,
            }
            for level in range(1, self.level_count + 1)
        ]

    @property
    def can_add(self) -> bool:
        return self.level_count < MAX_LEVELS

    def clean(self):
        data = super().clean()
        rules = []
        for level in range(1, self.level_count + 1):
            targets = data.get(f"rule{level}_targets") or []
            if not targets:
                if f"rule{level}_targets" not in self.errors:
                    self.add_error(
                        f"rule{level}_targets",
                        forms.ValidationError(
                            _("Pick who level %(n)s notifies, or remove the level.")
                            % {"n": level},
                            code="no_targets",
                        ),
                    )
                continue
            delay = data.get(f"rule{level}_delay") or DEFAULT_DELAY
            rules.append(
                {
                    "delay": delay,
                    "targets": [tuple(value.split(":", 1)) for value in targets],
                }
            )
        data["rules"] = rules
        return data


def policy_levels_rearranged(data, op: str) -> tuple[dict, int]:
    """Return a posted policy's values with a level added, removed or moved.

    `op` is "add", "remove-N", "up-N" or "down-N"; anything else changes
    nothing. Returns the form's initial values and the new level count.
    """
    try:
        count = max(1, min(int(data.get("levels") or 1), MAX_LEVELS))
    except ValueError:
        count = 1
    levels = [
        (data.get(f"rule{n}_delay", ""), data.getlist(f"rule{n}_targets"))
        for n in range(1, count + 1)
    ]
    action, _dash, number = op.partition("-")
    index = int(number) - 1 if number.isdigit() else -1
    if action == "add" and count < MAX_LEVELS:
        levels.append((str(DEFAULT_DELAY), []))
    elif action == "remove" and 0 <= index < count and count > 1:
        levels.pop(index)
    elif action == "up" and 0 < index < count:
        levels[index - 1], levels[index] = levels[index], levels[index - 1]
    elif action == "down" and 0 <= index < count - 1:
        levels[index + 1], levels[index] = levels[index], levels[index + 1]
    initial = {
        "name": data.get("name", ""),
        "description": data.get("description", ""),
        "num_loops": data.get("num_loops", "0"),
        "levels": len(levels),
    }
    for n, (delay, targets) in enumerate(levels, start=1):
        initial[f"rule{n}_delay"] = delay
        initial[f"rule{n}_targets"] = targets
    return initial, len(levels)


USER_ROLES = [(role, ROLE_LABELS[role]) for role in inputs.USER_ROLES]


class UserForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(label=_("Role"), choices=USER_ROLES)
    job_title = forms.CharField(label=_("Job title"), max_length=100, required=False)


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


TEAM_ROLES = [(role, TEAM_ROLE_LABELS[role]) for role in inputs.TEAM_ROLES]


class MemberForm(forms.Form):
    user = forms.ChoiceField(label=_("User"), widget=forms.Select(attrs=picker()))
    role = forms.ChoiceField(label=_("Team role"), choices=TEAM_ROLES)

    def __init__(self, *args, users=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = _choices(users, _("— choose —"))


class WebhookForm(forms.Form):
    url = forms.URLField(
        label=_("Delivery URL"),
        max_length=2000,
        assume_scheme="https",
        help_text=_("PagerDuty cannot change it later: delete and re-create."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=[(event, event) for event in inputs.WEBHOOK_EVENTS],
        widget=forms.CheckboxSelectMultiple,
        initial=["incident.triggered", "incident.acknowledged", "incident.resolved"],
    )
    filter_type = forms.ChoiceField(
        label=_("Send events of"),
        choices=[
            ("account", _("The whole account")),
            ("service", _("One service")),
            ("team", _("One team")),
        ],
        initial="account",
        widget=forms.RadioSelect,
    )
    service = RefField(label=_("Service (for one service)"), blank=_("— choose —"))
    team = RefField(label=_("Team (for one team)"), blank=_("— choose —"))
    description = forms.CharField(label=_("Description"), required=False)

    def offer(self, *, services=(), teams=()) -> None:
        """Give the pickers their names (after validation: it needs none)."""
        data = self.data if self.is_bound else {}
        self.fields["service"].offer(services, data.get("service", ""))
        self.fields["team"].offer(teams, data.get("team", ""))

    def clean(self):
        data = super().clean()
        kind = data.get("filter_type")
        data["filter_id"] = ""
        if kind in ("service", "team"):
            if not data.get(kind):
                self.add_error(
                    kind,
                    forms.ValidationError(
                        _("Choose the %(kind)s whose events are sent.")
                        % {"kind": _("service") if kind == "service" else _("team")},
                        code="filter_id",
                    ),
                )
            data["filter_id"] = data.get(kind) or ""
        return data
