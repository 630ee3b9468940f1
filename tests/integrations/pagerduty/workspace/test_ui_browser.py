"""The workspace's smaller fixes in Chromium, at desktop and phone width:
the escalation policy editor, Reopen, deletes by name, pickers by name."""

import pytest

from tests.browser_fixtures import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _acme(state):
    return next(a.id for a in state.accounts.values() if a.subdomain == "acme")


def test_the_policy_editor_adds_moves_and_names_levels(
    device_page, device_workspace, sandbox_settings
):
    page, state = device_page, sandbox_settings.state
    with state.lock:
        acme = _acme(state)
        person = next(
            u for u in state.users.values() if u.account_id == acme and u.role == "user"
        )
        schedule = next(s for s in state.schedules.values() if s.account_id == acme)

    page.goto(f"{device_workspace}/escalation-policies/new/")
    page.fill("#id_name", "Night shift")
    page.fill("#id_rule1_targets-filter", person.name)
    assert page.locator("#id_rule1_targets option:not([hidden])").count() >= 1
    page.select_option("#id_rule1_targets", f"user:{person.id}")
    page.fill("#id_rule1_delay", "90")
    page.click("#level-add")
    page.wait_for_selector("#level-2")
    assert page.input_value("#id_name") == "Night shift"
    page.select_option("#id_rule2_targets", f"schedule:{schedule.id}")
    page.click("#level-2-up")
    page.wait_for_selector("#level-2")
    assert page.input_value("#id_rule2_delay") == "90"
    shot(page, "workspace-policy-editor")
    page.click("#ws-form-submit")
    page.wait_for_selector("#policy-rules")

    rules = page.text_content("#policy-rules")
    assert rules.index(schedule.name) < rules.index(person.name)
    assert "escalates after 1 h 30 min" in rules
    shot(page, "workspace-policy-detail")
    with state.lock:
        policy = next(
            p for p in state.escalation_policies.values() if p.name == "Night shift"
        )
        assert [r.targets for r in policy.rules] == [
            [("schedule", schedule.id)],
            [("user", person.id)],
        ]


def test_reopen_a_resolved_incident(device_page, device_workspace, sandbox_settings):
    page, state = device_page, sandbox_settings.state
    page.goto(f"{device_workspace}/incidents/?status=resolved")
    incident_id = page.locator("#incident-table tbody tr").first.get_attribute(
        "data-incident-id"
    )
    page.goto(f"{device_workspace}/incidents/{incident_id}/")

    assert page.locator("#action-resolve, #action-acknowledge").count() == 0
    shot(page, "workspace-incident-resolved")
    page.click("#action-reopen")
    page.wait_for_selector(".message-success")

    assert "reopened" in page.text_content(".messages")
    assert page.text_content("#incident-status").strip() == "Triggered"
    with state.lock:
        assert state.incidents[incident_id].status == "triggered"


def test_a_delete_names_the_user(device_page, device_workspace, sandbox_settings):
    page, state = device_page, sandbox_settings.state
    with state.lock:
        acme = _acme(state)
        person = next(
            u
            for u in state.users.values()
            if u.account_id == acme and u.role == "limited_user"
        )

    page.goto(f"{device_workspace}/users/{person.id}/delete/")

    text = page.text_content("main")
    assert f"Delete the user {person.name} ({person.email}) in PagerDuty?" in text
    shot(page, "workspace-delete-by-name")
    page.click("text=Cancel")
    with state.lock:
        assert person.id in state.users


def test_on_calls_are_filtered_by_a_schedule_picked_by_name(
    device_page, device_workspace, sandbox_settings
):
    page, state = device_page, sandbox_settings.state
    with state.lock:
        acme = _acme(state)
        schedule = next(s for s in state.schedules.values() if s.account_id == acme)

    page.goto(f"{device_workspace}/oncalls/")
    page.fill("#id_schedule-filter", schedule.name)
    assert page.input_value("#id_schedule") == schedule.id
    page.click("#oncall-filters button[type=submit]")
    page.wait_for_url(f"**schedule={schedule.id}**")

    assert page.is_visible("#oncall-now")
    shot(page, "workspace-oncalls-by-schedule")
