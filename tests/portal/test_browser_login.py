import pytest

from tests.browser_fixtures import save_screenshot
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_user_signs_in_through_the_login_page(page, live_server, portal_rows):
    UserFactory(username="alice", password="alice-pass-1")

    page.goto(f"{live_server.url}/accounts/login/")
    save_screenshot(page, "login")
    page.fill("input[name=login]", "alice")
    page.fill("input[name=password]", "alice-pass-1")
    page.click("button[type=submit]")

    page.wait_for_url(f"{live_server.url}/")
    assert "Welcome, alice" in page.text_content("h1")
