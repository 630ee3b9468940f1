"""A form renderer that writes Django's commonest widgets without templates.

Each widget rendered through the template engine costs a template render
plus one include per option and per attribute list; a filter bar of seven
fields took about a tenth of a page's CPU. The HTML is byte for byte what
Django's own widget templates produce (tests/portal/test_form_renderers.py
compares them); any other template, or a widget with a custom option
template, goes through the templates as before.
"""

from django.forms.renderers import DjangoTemplates
from django.utils.formats import localize
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeData

WIDGETS = "django/forms/widgets/"
INPUT_TEMPLATES = frozenset(
    f"{WIDGETS}{name}.html"
    for name in (
        "input",
        "checkbox",
        "color",
        "date",
        "datetime",
        "email",
        "hidden",
        "number",
        "password",
        "search",
        "tel",
        "text",
        "time",
        "url",
    )
)
SELECT_TEMPLATE = f"{WIDGETS}select.html"
SELECT_OPTION_TEMPLATE = f"{WIDGETS}select_option.html"
MULTIPLE_TEMPLATES = {
    f"{WIDGETS}radio.html": f"{WIDGETS}radio_option.html",
    f"{WIDGETS}checkbox_select.html": f"{WIDGETS}checkbox_option.html",
}
ERROR_LIST_TEMPLATE = "django/forms/errors/list/default.html"


def _text(value) -> str:
    """Return what `{{ value }}` prints."""
    return conditional_escape(localize(value))


def _string(value) -> str:
    """Return what `{{ value|stringformat:'s' }}` prints."""
    if isinstance(value, tuple):
        value = str(value)
    if isinstance(value, SafeData):
        return str(value)
    return escape("%s" % value)  # noqa: UP031 - the filter's own formatting


def _attrs(attrs: dict) -> str:
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        parts.append(f" {_text(name)}")
        if value is not True:
            parts.append(f'="{_string(value)}"')
    return "".join(parts)


def _input(widget: dict) -> str:
    value = widget["value"]
    shown = "" if value is None else f' value="{_string(value)}"'
    return (
        f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"'
        f"{shown}{_attrs(widget['attrs'])}>"
    )


def _options(widget: dict, template: str):
    """Yield (group, options) or None when an option has its own template."""
    groups = []
    for group, options, _index in widget["optgroups"]:
        if any(option["template_name"] != template for option in options):
            return None
        groups.append((group, options))
    return groups


def _select(widget: dict) -> str | None:
    groups = _options(widget, SELECT_OPTION_TEMPLATE)
    if groups is None:
        return None
    parts = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group, options in groups:
        if group:
            parts.append(f'\n  <optgroup label="{_text(group)}">')
        for option in options:
            parts.append(
                f'\n  <option value="{_string(option["value"])}"'
                f"{_attrs(option['attrs'])}>{_text(option['label'])}</option>\n"
            )
        if group:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _input_option(option: dict) -> str:
    html = _input(option) + "\n"
    if not option["wrap_label"]:
        return html + "\n"
    option_id = option["attrs"].get("id")
    label_for = f' for="{_text(option_id)}"' if option_id else ""
    return f"<label{label_for}>{html} {_text(option['label'])}</label>\n"


def _multiple(widget: dict, option_template: str) -> str | None:
    groups = _options(widget, option_template)
    if groups is None:
        return None
    widget_id = widget["attrs"].get("id")
    css = widget["attrs"].get("class")
    parts = [
        "<div",
        f' id="{_text(widget_id)}"' if widget_id else "",
        f' class="{_text(css)}"' if css else "",
        ">",
    ]
    for group, options in groups:
        if group:
            parts.append(f"\n  <div><label>{_text(group)}</label>")
        for option in options:
            parts.append(f"<div>\n    {_input_option(option)}\n</div>")
        if group:
            parts.append("\n  </div>")
    parts.append("\n</div>")
    return "".join(parts)


class PortalFormRenderer(DjangoTemplates):
    """Django's default renderer with the portal's one field template.

    `{{ field.as_field_group }}` writes the label, the widget, the help text
    (with the id the widget's `aria-describedby` names) and the errors.
    """

    field_template_name = "portal/forms/field.html"


class FastWidgetRenderer(PortalFormRenderer):
    """The portal's renderer, with the plain widgets written in code."""

    def render(self, template_name, context, request=None):
        html = None
        widget = context.get("widget")
        if template_name == ERROR_LIST_TEMPLATE and not context.get("errors"):
            html = ""
        elif widget is not None and template_name in INPUT_TEMPLATES:
            html = _input(widget)
        elif widget is not None and template_name == SELECT_TEMPLATE:
            html = _select(widget)
        elif widget is not None and template_name in MULTIPLE_TEMPLATES:
            html = _multiple(widget, MULTIPLE_TEMPLATES[template_name])
        if html is None:
            return super().render(template_name, context, request=request)
        return html
