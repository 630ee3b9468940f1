"""Playwright driving Debian's Chromium; no browser is ever downloaded."""

import os
import shutil
from pathlib import Path

import pytest

from tests.helpers import skip_unless_available

ROOT = Path(__file__).resolve().parent.parent
# Tracked screenshots are refreshed only on request (`make screenshots`), so a
# plain test run leaves the work tree clean.
SCREENSHOTS = (
    ROOT / "docs" / "screenshots"
    if os.environ.get("PORTAL_SCREENSHOTS") == "1"
    else ROOT / "var" / "screenshots"
)
# Without the background-networking flags Chromium keeps dialling Google's
# hosts, which this offline machine refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    executable = shutil.which("chromium")
    skip_unless_available(
        executable is not None,
        "Debian's Chromium is not installed (apt-get install -y chromium)",
    )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls
    # the tests make around it are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser tab; any Content Security Policy violation fails the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(10_000)
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    yield page
    context.close()
    assert violations == [], f"CSP violations: {violations}"


def save_screenshot(page, name: str) -> Path:
    """Save a full-page PNG (docs/screenshots/ with PORTAL_SCREENSHOTS=1)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
