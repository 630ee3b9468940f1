"""What the reads of several resources share."""

from __future__ import annotations

from dataclasses import replace

from integrations.pagerduty.client import Page
from integrations.pagerduty.workspace import inputs
from integrations.pagerduty.workspace.context import Workspace

LIST_PAGE_SIZE = 25
# Lists page by 25 up to PagerDuty's 10,000-result offset cap.
MAX_LIST_OFFSET = 10_000 - LIST_PAGE_SIZE
MAX_QUERY = 100
# PagerDuty's largest page.
MAX_PAGE = 100
# IDs one list filter takes (team_ids[], user_ids[], service_ids[]): keeps
# the URL well within limits, for pages, exports and tools alike.
MAX_FILTER_IDS = 25


def entity_page(
    ws: Workspace,
    path: str,
    *,
    key: str,
    scope: str,
    entity,
    offset: int,
    params: dict | None = None,
    limit: int = LIST_PAGE_SIZE,
) -> Page:
    """Return one page (of 25 unless told) from `path`, built as `entity`."""
    offset = inputs.bounded(offset, "offset", low=0, high=MAX_LIST_OFFSET)
    page = ws.read_page(
        path,
        key=key,
        scope=scope,
        params=params,
        offset=offset,
        limit=inputs.bounded(limit, "limit", low=1, high=MAX_PAGE),
        total=True,
    )
    return replace(page, items=[entity.from_api(item) for item in page.items])


def query_params(query: str, **params) -> dict:
    """Return list parameters with a checked name filter, when given."""
    query = inputs.text(query, "query", max_length=MAX_QUERY)
    return {**params, "query": query} if query else params
