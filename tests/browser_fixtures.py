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


# The widths the checks name: a 1366 px laptop and a 390 px phone.
VIEWPORTS = {
    "desktop": {"width": 1366, "height": 900},
    "phone": {"width": 390, "height": 844},
}


def _tab(browser, viewport, *, mobile=False):
    context = browser.new_context(viewport=viewport, is_mobile=mobile, has_touch=mobile)
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
    return context, page, violations


@pytest.fixture
def page(browser):
    """A fresh browser tab; any Content Security Policy violation fails the test."""
    context, page, violations = _tab(browser, {"width": 1280, "height": 860})
    yield page
    context.close()
    assert violations == [], f"CSP violations: {violations}"


@pytest.fixture(params=list(VIEWPORTS))
def device_page(browser, request):
    """A fresh tab at desktop, then at phone width (`page.device` says which)."""
    phone = request.param == "phone"
    context, page, violations = _tab(browser, VIEWPORTS[request.param], mobile=phone)
    page.device = request.param
    yield page
    context.close()
    assert violations == [], f"CSP violations: {violations}"


def another_tab(page):
    """Open a second, signed-out tab of the same size (another person)."""
    browser = page.context.browser
    phone = getattr(page, "device", "") == "phone"
    viewport = page.viewport_size
    context, tab, _violations = _tab(browser, viewport, mobile=phone)
    tab.device = getattr(page, "device", "")
    return context, tab


def shot(page, name: str) -> Path:
    """Save a screenshot named for the page's width ("-phone" on a phone)."""
    suffix = "-phone" if getattr(page, "device", "") == "phone" else ""
    return save_screenshot(page, f"{name}{suffix}")


AXE = ROOT / "tests" / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.1 levels A and AA, as axe tags them.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page) -> list[dict]:
    """Return axe-core's WCAG 2.1 A/AA violations on the page as it is now.

    axe is evaluated through the DevTools protocol, so the page's strict
    CSP stays on and the portal never serves it (npm ci --prefix tests/a11y).
    """
    skip_unless_available(
        AXE.exists(), "axe-core is not installed (npm ci --prefix tests/a11y)"
    )
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    return page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {
                runOnly: {type: "tag", values: tags},
                resultTypes: ["violations"],
            });
            return result.violations.map((v) => ({
                id: v.id,
                impact: v.impact,
                help: v.help,
                nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5),
            }));
        }""",
        WCAG_TAGS,
    )


def assert_accessible(page, where: str = "") -> None:
    """Fail with axe's findings when the page has any WCAG 2.1 A/AA violation."""
    found = axe_violations(page)
    assert found == [], f"{where or page.url}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes']}" for v in found
    )


def save_screenshot(page, name: str) -> Path:
    """Save a full-page PNG (docs/screenshots/ with PORTAL_SCREENSHOTS=1)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
