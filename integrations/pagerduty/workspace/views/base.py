"""What every workspace page shares: opening the workspace, errors, forms.

Pages are a thin front door on the operation layer: `workspace_page` opens
the workspace (`access.workspace_open`) and turns its exceptions into pages
— another tenant 404 before anything is sent upstream, no connection 409,
a missing scope 403 — and PagerDuty's failures into an error page.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from integrations.exceptions import PagerDutyError
from integrations.pagerduty.workspace.access import (
    MissingScope,
    NotAMember,
    NotConnected,
    WorkspaceError,
    describe_error,
    workspace_open,
)
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.views.presentation import sections_for
from integrations.selectors import membership_get_for_request_or_404
from portal.redirects import has_hidden_characters

# Stands in for an object ID in a URL reversed once per page, not per row.
ID_PLACEHOLDER = "PDOBJECTID"
ERROR_TEMPLATE = "integrations/pagerduty/error.html"


def render_page(
    request, ws: Workspace | None, template: str, context=None, status=200, **shell
):
    """Render a workspace page with its sub-navigation, freshness and scopes.

    `shell` carries what the header needs when no workspace could be opened
    (`membership`, `connection`).
    """
    query = request.GET.copy()
    query["refresh"] = "1"
    membership = ws.membership if ws else shell["membership"]
    data = {
        "ws": ws,
        "tenant": membership.tenant,
        "membership": membership,
        "connection": ws.connection if ws else shell.get("connection"),
        "section": getattr(request, "workspace_section", ""),
        "sections": sections_for(ws) if ws else [],
        "as_of": ws.as_of if ws else None,
        "refresh_url": f"{request.path}?{query.urlencode()}",
        **(context or {}),
    }
    return render(request, template, data, status=status)


def workspace_page(section: str, scope: str = "", write_scope: str = ""):
    """Wrap a view: open the workspace, check the scope, render failures.

    GET needs `scope`; POST needs `write_scope` (and is refused without
    calling PagerDuty when it was not granted).
    """

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, tenant_id: int, **kwargs):
            request.workspace_section = section
            membership = membership_get_for_request_or_404(
                request=request, tenant_id=tenant_id
            )
            try:
                ws = workspace_open(
                    user=request.user,
                    tenant_id=tenant_id,
                    refresh=request.GET.get("refresh") == "1",
                    membership=membership,
                )
            except NotAMember:
                raise Http404("No Membership matches the given query.") from None
            except NotConnected as exc:
                return render_page(
                    request,
                    None,
                    "integrations/pagerduty/not_connected.html",
                    status=409,
                    membership=exc.membership,
                    connection=exc.connection,
                )
            try:
                needed = write_scope if request.method == "POST" else scope
                if needed:
                    ws.require(needed)
                return view(request, ws, **kwargs)
            except MissingScope as exc:
                return render_page(
                    request,
                    ws,
                    "integrations/pagerduty/scope_missing.html",
                    {"scope": exc.scope},
                    status=403,
                )
            except (PagerDutyError, WorkspaceError) as exc:
                error = describe_error(exc)
                return render_page(
                    request, ws, ERROR_TEMPLATE, {"error": error}, status=error.status
                )
            finally:
                ws.close()

        return wrapper

    return decorator


def url(name: str, ws: Workspace, *args) -> str:
    """Return the URL of a workspace page of this tenant."""
    return reverse(f"integrations:{name}", args=[ws.tenant.pk, *args])


def posted(request):
    """Return the POST data to bind (even when empty), or None on GET."""
    return request.POST if request.method == "POST" else None


def safe_next(request, fallback: str) -> str:
    """Return the posted `next` URL when it stays on this site, else fallback."""
    target = request.POST.get("next", "")
    if (
        target
        and not has_hidden_characters(target)
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=False
        )
    ):
        return target
    return fallback


def perform(request, ws, *, form, action, success, done_url, template, context):
    """Run a validated action; on failure re-render the form, input kept."""
    error = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                result = action(form.cleaned_data)
            except (PagerDutyError, WorkspaceError) as exc:
                error = describe_error(exc)
                status = error.status
            else:
                text = success(result) if callable(success) else success
                messages.success(request, text)
                return redirect(done_url(result) if callable(done_url) else done_url)
        else:
            status = 400
    return render_page(
        request, ws, template, {**context, "form": form, "error": error}, status
    )


def simple_action(request, *, action, success, back_url):
    """Run a write with no input; confirm or show PagerDuty's message."""
    try:
        action()
    except (PagerDutyError, WorkspaceError) as exc:
        messages.error(request, describe_error(exc).message)
    else:
        messages.success(request, success)
    return redirect(back_url)


def page_number(request, *, last: int = 400) -> int:
    """Return the `page` query parameter as a page number in [1, last]."""
    try:
        number = int(request.GET.get("page", "1"))
    except ValueError:
        number = 1
    return max(1, min(number, last))


FORM_TEMPLATE = "integrations/pagerduty/form_page.html"
CONFIRM_TEMPLATE = "integrations/pagerduty/confirm_delete.html"
LIST_PAGE_SIZE = 25


def list_offset(request) -> int:
    """Return the offset of the requested page of a 25-per-page list."""
    return (page_number(request) - 1) * LIST_PAGE_SIZE


def list_page(request, ws, template, page, **context):
    """Render one page of a directory list with its pager."""
    number = page.offset // LIST_PAGE_SIZE + 1
    return render_page(
        request,
        ws,
        template,
        {
            "page": page,
            "number": number,
            "previous_url": f"?page={number - 1}",
            "next_url": f"?page={number + 1}",
            **context,
        },
    )


def form_page(request, ws, *, form, action, success, done_url, title, cancel_url):
    """Render a generic form page and run its action when posted."""
    return perform(
        request,
        ws,
        form=form,
        action=action,
        success=success,
        done_url=done_url,
        template=FORM_TEMPLATE,
        context={"title": title, "cancel_url": cancel_url},
    )


def confirm_page(
    request, ws, *, what, action, success, done_url, cancel_url, question=""
):
    """Ask before a delete (`question`, else "Delete <what>…?"); run it on POST."""
    from integrations.pagerduty.workspace.forms import ConfirmForm

    return perform(
        request,
        ws,
        form=ConfirmForm(posted(request)),
        action=lambda data: action(),
        success=success,
        done_url=done_url,
        template=CONFIRM_TEMPLATE,
        context={"what": what, "question": question, "cancel_url": cancel_url},
    )
