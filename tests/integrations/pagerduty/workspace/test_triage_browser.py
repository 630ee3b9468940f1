"""Triage in Chromium against the sandbox, at desktop and phone width."""

import pytest

from tests.browser_fixtures import save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _acme(state):
    return next(a.id for a in state.accounts.values() if a.subdomain == "acme")


def _rows(page):
    return page.locator("#incident-table tbody tr")


def test_triage_filter_by_service_name_acknowledge_search_and_mine(
    page, workspace, sandbox_settings
):
    state = sandbox_settings.state
    with state.lock:
        acme = _acme(state)
        open_by_service = {}
        for incident in state.incidents.values():
            if incident.account_id == acme and incident.status == "triggered":
                open_by_service.setdefault(incident.service_id, []).append(incident)
        service_id, incidents = max(open_by_service.items(), key=lambda i: len(i[1]))
        service_name = state.services[service_id].name
        alice = next(u for u in state.users.values() if u.email == "alice@acme.example")
        # Two incidents of another service are Alice's.
        theirs = [
            i
            for i in state.incidents.values()
            if i.account_id == acme and i.service_id != service_id
        ][:2]
        for incident in theirs:
            incident.assignee_ids = [alice.id]

    page.goto(f"{workspace}/incidents/")
    assert page.text_content("#tab-triggered .ws-count").strip().isdigit()
    # Filter by the service's name: type it into the picker, apply.
    page.fill("#id_service-filter", service_name)
    assert page.input_value("#id_service") == service_id
    page.click("#incident-filters-apply")
    page.wait_for_url(f"**service={service_id}**")
    assert _rows(page).count() == len(incidents)
    assert set(page.locator("#incident-table .ws-col-service").all_text_contents()) == {
        service_name
    }
    save_screenshot(page, "workspace-triage-service")

    # Acknowledge the first one from its row; the list comes back.
    first = _rows(page).first.get_attribute("data-incident-id")
    page.click(f"#incident-{first} [data-row-action=acknowledge]")
    page.wait_for_selector(".message-success")
    assert "acknowledged." in page.text_content(".messages")
    assert f"service={service_id}" in page.url
    assert page.locator(f"#incident-{first}").count() == 0
    with state.lock:
        assert state.incidents[first].status == "acknowledged"

    # Search by a word of another incident's title.
    with state.lock:
        other = next(i for i in incidents if i.id != first)
        word = max(other.title.split(), key=len)
    page.fill("#id_q", word)
    page.click("#incident-search-submit")
    page.wait_for_selector("#search-scope")
    titles = page.locator("#incident-table .ws-col-title").all_text_contents()
    assert titles
    assert all(word.casefold() in t.casefold() for t in titles)
    save_screenshot(page, "workspace-triage-search")

    # Assigned to me: only Alice's incidents, on every open tab.
    page.goto(f"{workspace}/incidents/?status=all")
    page.click("#quick-assigned")
    page.wait_for_url("**assigned=me**")
    assert page.get_attribute("#quick-assigned", "aria-pressed") == "true"
    ids = _rows(page).evaluate_all("rows => rows.map(r => r.dataset.incidentId)")
    assert sorted(ids) == sorted(i.id for i in theirs)
    save_screenshot(page, "workspace-triage-mine")


def test_phone_incident_list_shows_an_incident_on_the_first_screen(
    browser, workspace, live_server
):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    phone = context.new_page()
    try:
        _sign_in(phone, live_server)
        phone.goto(f"{workspace}/incidents/")

        assert phone.locator("#incident-filter-panel").evaluate("d => d.open") is False
        save_screenshot(phone, "workspace-incidents-phone")
        card = _rows(phone).first
        box = card.bounding_box()
        assert box is not None
        assert box["y"] + box["height"] <= PHONE["height"]
        assert box["width"] <= PHONE["width"]
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]
        phone.click("#incident-filter-panel summary")
        assert phone.is_visible("#id_service")
    finally:
        context.close()


def _sign_in(page, live_server):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", "alice")
    page.fill("input[name=password]", "password")
    page.click("button[type=submit]")
    page.wait_for_load_state()
