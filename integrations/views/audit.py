"""The audit log: who changed what, and when."""

from django.core.paginator import Paginator
from django.shortcuts import render

from integrations.forms import AuditFilterForm
from integrations.selectors import audit_event_list
from integrations.views.staff import staff_required

PAGE_SIZE = 50


@staff_required
def audit_list(request):
    """Show audit events, filterable and paginated."""
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    events = audit_event_list(
        environment=filters.get("environment"),
        tenant=filters.get("tenant"),
        actor=filters.get("actor", "").strip(),
        action=filters.get("action", ""),
    )
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    for event in page.object_list:
        event.detail_items = [
            (key, _detail_text(value)) for key, value in event.details.items()
        ]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "integrations/audit_list.html",
        {
            "form": form,
            "page": page,
            "filter_query": query.urlencode(),
            "filtered": bool(filters) and any(filters.values()),
        },
    )


def _detail_text(value) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)
