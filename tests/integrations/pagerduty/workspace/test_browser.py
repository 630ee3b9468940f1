"""The workspace in Chromium against the PagerDuty sandbox."""

import re

import pytest

from tests.browser_fixtures import save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_list_acknowledge_and_note_through_the_sandbox(
    page, workspace, sandbox_settings
):
    page.goto(f"{workspace}/")
    assert page.text_content("#open-incidents")
    save_screenshot(page, "workspace-overview")

    page.click("#ws-nav >> text=Incidents")
    rows = page.locator("#incident-table tbody tr")
    assert rows.count() > 0
    save_screenshot(page, "workspace-incidents")
    first = rows.first.get_attribute("id").removeprefix("incident-")
    page.click(f"#incident-{first} a.cell-primary")
    page.wait_for_selector("#incident-summary")

    page.click("#action-acknowledge")
    page.wait_for_selector(".message-success")
    assert re.search(r"Incident #\d+ acknowledged\.", page.text_content(".messages"))
    assert page.text_content("#incident-status").strip() == "Acknowledged"
    page.fill("#note-form textarea", "Rolled back build 42")
    page.click("#action-note")
    page.wait_for_selector(".message-success")
    assert "Rolled back build 42" in page.text_content("#incident-notes")
    save_screenshot(page, "workspace-incident-detail")

    with sandbox_settings.state.lock:
        incident = sandbox_settings.state.incidents[first]
        assert incident.status == "acknowledged"
        assert incident.notes[-1].content == "Rolled back build 42"


def test_services_and_oncalls_pages_render_from_the_sandbox(page, workspace):
    page.goto(f"{workspace}/services/")
    assert page.locator("#service-table tbody tr").count() > 0
    save_screenshot(page, "workspace-services")
    page.locator("#service-table tbody tr a.cell-primary").first.click()
    page.wait_for_selector("#service-summary")

    page.goto(f"{workspace}/oncalls/")
    assert re.search(r"Level \d", page.text_content("#oncall-now"))
    save_screenshot(page, "workspace-oncalls")


def test_unavailable_pagerduty_keeps_the_typed_note(page, workspace, sandbox_settings):
    page.goto(f"{workspace}/incidents/?status=all")
    first = page.locator("#incident-table tbody tr").first.get_attribute("id")
    page.goto(f"{workspace}/incidents/{first.removeprefix('incident-')}/")
    sandbox_settings.add_fault("500", "/incidents/")

    page.fill("#note-form textarea", "Do not lose me")
    page.click("#action-note")

    assert "PagerDuty is unavailable" in page.text_content("#ws-error")
    assert page.input_value("textarea[name=content]") == "Do not lose me"
    save_screenshot(page, "workspace-unavailable")


def test_schedule_timeline_and_webhook_create_and_ping(
    page, workspace, sandbox_settings
):
    page.goto(f"{workspace}/schedules/")
    page.locator("#schedule-table tbody tr a.cell-primary").first.click()
    page.wait_for_selector("#schedule-timeline")
    assert page.locator(".ws-tl-row").count() == 15
    assert page.locator("#timeline-legend li").count() >= 1
    save_screenshot(page, "workspace-schedule-timeline")

    page.goto(f"{workspace}/webhooks/new/")
    page.fill("input[name=url]", "http://127.0.0.1:9/hook")
    page.fill("input[name=description]", "Portal test")
    page.click("#ws-form-submit")
    secret = page.input_value("#webhook-secret")
    assert len(secret) > 20
    save_screenshot(page, "workspace-webhook-created")
    page.click("text=Back to webhook subscriptions")
    assert secret not in page.content()
    page.click("#webhook-table button:has-text('Ping')")
    page.wait_for_selector(".message-success")
    save_screenshot(page, "workspace-webhooks")

    with sandbox_settings.state.lock:
        subs = [
            s
            for s in sandbox_settings.state.webhook_subscriptions.values()
            if s.description == "Portal test"
        ]
    assert len(subs) == 1
    assert sandbox_settings.count(f"/webhook_subscriptions/{subs[0].id}/ping") == 1


def test_select_all_then_bulk_acknowledge(page, workspace, sandbox_settings):
    page.goto(f"{workspace}/incidents/?status=triggered")
    ids = [
        row.get_attribute("id").removeprefix("incident-")
        for row in page.locator("#incident-table tbody tr").all()
    ]

    page.check("#select-all")
    page.select_option("#bulk-action", "acknowledge")
    page.click("#bulk-submit")
    page.wait_for_selector(".message-success")

    assert f"{len(ids)} incident(s) acknowledged." in page.text_content(".messages")
    with sandbox_settings.state.lock:
        statuses = {sandbox_settings.state.incidents[i].status for i in ids}
    assert statuses == {"acknowledged"}
