import pytest
from django.urls import reverse

from tests.factories import MembershipFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("login", ["alice", "alice@acme.example"])
def test_user_signs_in_with_username_or_email(client, login):
    UserFactory(username="alice", email="alice@acme.example")

    response = client.post(
        reverse("account_login"), {"login": login, "password": "password"}
    )

    assert response.status_code == 302
    assert response.url == reverse("home")


def test_wrong_password_shows_an_error_and_does_not_sign_in(client):
    UserFactory(username="alice")

    response = client.post(
        reverse("account_login"), {"login": "alice", "password": "nope"}
    )

    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_open_signup_is_closed_by_default(client, django_user_model):
    response = client.post(
        reverse("account_signup"),
        {
            "username": "mallory",
            "email": "m@example.test",
            "password1": "a-long-passphrase-1",
            "password2": "a-long-passphrase-1",
        },
    )

    assert "Sign Up Closed" in response.content.decode()
    assert not django_user_model.objects.filter(username="mallory").exists()


def test_home_requires_sign_in(client):
    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_home_lists_the_tenants_of_a_member_of_several(client, tenant_admin):
    MembershipFactory(
        user=tenant_admin, tenant=TenantFactory(name="Globex", slug="globex")
    )
    client.force_login(tenant_admin)

    response = client.get(reverse("home"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Acme Corp" in html
    assert "Globex" in html


def test_home_sends_a_member_of_one_tenant_to_its_page(client, tenant_admin, tenant):
    client.force_login(tenant_admin)

    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response.url == reverse("integrations:tenant_home", args=[tenant.pk])


def test_sign_out_needs_a_post(client, tenant_admin):
    client.force_login(tenant_admin)

    client.get(reverse("account_logout"))
    assert "_auth_user_id" in client.session
    client.post(reverse("account_logout"))
    assert "_auth_user_id" not in client.session


def test_login_page_renders_inside_the_portal_shell(client):
    response = client.get(reverse("account_login"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "portal/css/portal.css" in html
    assert 'name="login"' in html
