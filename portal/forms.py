"""Forms of the portal's own pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from integrations.validators import time_zone_names


def _zone_choices():
    names = sorted(time_zone_names() - {"UTC"})
    return [("UTC", "UTC"), *((name, name.replace("_", " ")) for name in names)]


class ProfileForm(forms.Form):
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=_zone_choices,
        help_text=_(
            "Times in the portal, such as when an incident was created, are "
            "shown in this zone and labelled with it."
        ),
        widget=forms.Select(
            attrs={
                "data-picker": "",
                "data-picker-label": _("Filter"),
                "data-picker-placeholder": _("Type a city, e.g. Paris"),
            }
        ),
    )
