import pytest
from django import forms
from django.forms.renderers import DjangoTemplates

from integrations.forms import PagerDutyConfigForm
from integrations.models import OAuthClient
from integrations.pagerduty.workspace.forms import IncidentFilterForm
from portal.form_renderers import FastWidgetRenderer


class EveryWidgetForm(forms.Form):
    text = forms.CharField(max_length=5, widget=forms.TextInput(attrs={"x": '"<>'}))
    secret = forms.CharField(widget=forms.PasswordInput(render_value=True))
    flag = forms.BooleanField(required=False)
    day = forms.DateField(required=False, widget=forms.DateInput(attrs={"a": True}))
    number = forms.IntegerField(required=False)
    hidden = forms.CharField(required=False, widget=forms.HiddenInput)
    pick = forms.ChoiceField(
        choices=[("", "—"), ("Group <1>", [("a", "A & a"), (1, 2)]), (3000, "x")]
    )
    radio = forms.ChoiceField(
        choices=[("", "none"), ("r", "R"), ("G", [("g", "<g>")])],
        widget=forms.RadioSelect(attrs={"class": "c"}),
    )
    boxes = forms.MultipleChoiceField(
        choices=[("a", "A"), ("b", "B")], widget=forms.CheckboxSelectMultiple
    )
    note = forms.CharField(required=False, widget=forms.Textarea)


def html_pair(form_class, *args, **kwargs):
    """Render a form's fields and errors with both renderers."""
    rendered = []
    for renderer in (DjangoTemplates(), FastWidgetRenderer()):
        form = form_class(*args, renderer=renderer, **kwargs)
        if form.is_bound:
            form.is_valid()
        rendered.append(
            [(str(field), str(field.errors)) for field in form]
            + [str(form.non_field_errors())]
        )
    return rendered


@pytest.mark.parametrize(
    "data",
    [
        None,
        {},
        {
            "text": 'too "long" <value>',
            "secret": "s&",
            "flag": "on",
            "day": "2026-02-30",
            "number": "12",
            "hidden": "<h>",
            "pick": "1",
            "radio": "g",
            "boxes": ["a", "b"],
            "note": "<n>",
        },
        {"pick": "3000", "radio": "r", "boxes": ["x"], "number": "n"},
    ],
)
def test_fast_renderer_writes_what_the_widget_templates_write(data):
    django_html, fast_html = html_pair(EveryWidgetForm, data)

    assert fast_html == django_html


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"urgency": "high", "service": "PX1", "since": "2026-01-02", "per_page": "50"},
        {
            "urgency": "nope",
            "service": "<b>",
            "since": "2026-02-02",
            "until": "2026-01-01",
        },
    ],
)
def test_incident_filters_render_the_same(data):
    django_html, fast_html = html_pair(IncidentFilterForm, data)

    assert fast_html == django_html


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [None, {"client_id": "", "region": "eu", "subdomain": "<x>", "scopes": ["x"]}],
)
def test_pagerduty_config_form_renders_the_same(data, development):
    instance = OAuthClient(environment=development, client_id="abc", region="us")

    django_html, fast_html = html_pair(PagerDutyConfigForm, data, instance=instance)

    assert fast_html == django_html


def test_forms_use_the_fast_renderer():
    assert isinstance(IncidentFilterForm().renderer, FastWidgetRenderer)
    assert isinstance(PagerDutyConfigForm().renderer, FastWidgetRenderer)


def test_the_field_template_gives_help_text_the_id_the_widget_points_at():
    from integrations.pagerduty.workspace.forms import ServiceForm

    html = str(ServiceForm()["acknowledgement_timeout"].as_field_group())

    assert 'aria-describedby="id_acknowledgement_timeout_helptext"' in html
    assert 'id="id_acknowledgement_timeout_helptext"' in html
    assert html.count('<label for="id_acknowledgement_timeout">') == 1
