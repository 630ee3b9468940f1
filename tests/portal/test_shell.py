import pytest
from django.test import override_settings
from django.urls import reverse, set_script_prefix

from tests.factories import MembershipFactory, TenantFactory

pytestmark = pytest.mark.django_db


def test_staff_home_goes_to_the_first_environments_catalog(client, staff_user):
    client.force_login(staff_user)

    response = client.get(reverse("home"))

    assert response.url == reverse(
        "integrations:integration_list", args=["development"]
    )


def test_staff_pages_show_the_current_environment_and_the_switcher(
    client, staff_user, development
):
    client.force_login(staff_user)

    response = client.get(reverse("integrations:tenant_list", args=["staging"]))

    html = response.content.decode()
    assert '<span class="env-badge env-staging"' in html
    assert response.context["current_environment"].slug == "staging"
    assert [item["url"] for item in response.context["nav_environments"]] == [
        reverse("integrations:tenant_list", args=[slug])
        for slug in ("development", "staging", "production")
    ]
    for label in ("Integrations", "Tenants", "Audit log", "Django admin"):
        assert label in html
    assert 'action="/accounts/logout/"' in html


def test_switcher_on_the_audit_log_links_to_each_catalog(client, staff_user):
    client.force_login(staff_user)

    response = client.get(reverse("integrations:audit_list"))

    assert [item["url"] for item in response.context["nav_environments"]] == [
        reverse("integrations:integration_list", args=[slug])
        for slug in ("development", "staging", "production")
    ]


def test_members_see_their_tenants_in_the_navigation(client, tenant_member, tenant):
    other = TenantFactory(name="Globex", slug="globex")
    MembershipFactory(user=tenant_member, tenant=other)
    client.force_login(tenant_member)

    response = client.get(reverse("home"))

    html = response.content.decode()
    assert reverse("integrations:tenant_home", args=[tenant.pk]) in html
    assert reverse("integrations:tenant_home", args=[other.pk]) in html
    assert "Audit log" not in html
    assert "Django admin" not in html


def test_login_page_hides_sign_up_while_it_is_closed(client):
    response = client.get(reverse("account_login"))

    html = response.content.decode()
    assert reverse("account_signup") not in html
    assert "sign up" not in html.lower()
    assert "Accounts are created by your administrator." in html


@override_settings(ACCOUNT_ALLOW_SIGNUP=True)
def test_login_page_offers_sign_up_when_it_is_open(client):
    response = client.get(reverse("account_login"))

    assert reverse("account_signup") in response.content.decode()


def test_pages_load_no_inline_script_or_style(client, staff_user, pagerduty_client):
    client.force_login(staff_user)
    urls = [
        reverse("integrations:integration_list", args=["development"]),
        reverse("integrations:pagerduty_config", args=["development"]) + "?tab=guide",
        reverse("integrations:pagerduty_config", args=["development"]),
        reverse("integrations:tenant_list", args=["development"]),
        reverse("integrations:audit_list"),
    ]

    for url in urls:
        html = client.get(url).content.decode()
        assert "<script>" not in html, url
        assert "style=" not in html, url
        assert "<style" not in html, url


@pytest.mark.parametrize(
    "name",
    ["account_login", "account_signup", "account_reset_password"],
)
def test_allauth_entrance_pages_render_in_the_shell(client, name):
    response = client.get(reverse(name))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="entrance"' in html
    assert "Integrations Portal" in html


@pytest.mark.parametrize("name", ["account_logout", "account_change_password"])
def test_allauth_account_pages_render_in_the_shell(client, tenant_member, name):
    client.force_login(tenant_member)

    response = client.get(reverse(name))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="sidebar"' in html


def test_navigation_links_follow_the_script_prefix(client, tenant_member, tenant):
    client.force_login(tenant_member)
    tenant_home = reverse("integrations:tenant_home", args=[tenant.pk])
    plain = client.get(tenant_home).content.decode()

    set_script_prefix("/portal/")  # what WSGIHandler does for SCRIPT_NAME
    try:
        prefixed = client.get(tenant_home).content.decode()
    finally:
        set_script_prefix("/")

    assert f'href="{tenant_home}"' in plain
    assert f'href="/portal{tenant_home}"' in prefixed
    assert 'action="/portal/accounts/logout/"' in prefixed
