"""The incident export page in Chromium against the PagerDuty sandbox."""

from pathlib import Path

import pytest

from tests.browser_fixtures import save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_export_shows_progress_to_completion_and_offers_the_file(
    page, workspace, sandbox_settings
):
    page.goto(f"{workspace}/incidents/")
    page.click("#incident-export")
    page.wait_for_selector("#export-form")

    with page.expect_download() as download:
        page.click("#export-submit")
    page.wait_for_selector("#export-save:not([hidden])")

    text = page.text_content("#export-text")
    value = page.eval_on_selector("#export-progress", "p => [p.value, p.max]")
    lines = Path(download.value.path()).read_bytes().decode().split("\r\n")
    rows = len([line for line in lines[1:] if line])
    assert download.value.suggested_filename.startswith("incidents-acme-")
    assert text == f"Export complete: {rows} / {rows}"
    assert value == [rows, rows]
    assert rows > 0
    assert lines[0].startswith("id,incident_number,title,status")
    assert page.get_attribute("#export-status", "role") == "status"
    save_screenshot(page, "workspace-incident-export")
