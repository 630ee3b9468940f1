import pytest
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django.contrib import admin
from django.urls import reverse

from tests.connect_fixtures import OLD_ACCESS, OLD_REFRESH

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", [SocialApp, SocialToken, SocialAccount])
def test_allauth_secret_bearing_admins_are_unregistered(model):
    assert not admin.site.is_registered(model)


def test_admin_index_offers_no_social_app_or_token_pages(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()

    assert "/admin/socialaccount/" not in page


def test_connection_admin_shows_no_token(admin_client, connection):
    url = reverse("admin:integrations_connection_change", args=[connection.pk])

    page = admin_client.get(url).content.decode()

    assert OLD_ACCESS not in page
    assert OLD_REFRESH not in page
    assert "acme" in page
