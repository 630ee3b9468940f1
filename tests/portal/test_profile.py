"""Each person picks the time zone the portal shows their times in."""

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.models import UserPreference
from portal.timezones import SESSION_TIME_ZONE
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_profile_defaults_to_utc(client, tenant_member):
    client.force_login(tenant_member)

    response = client.get(reverse("profile"))

    assert response.status_code == 200
    assert response.context["form"]["time_zone"].value() == "UTC"
    assert "Times are shown in UTC." in response.content.decode()
    assert 'data-picker=""' in response.content.decode()


def test_saving_a_zone_stores_it_and_shows_times_in_it(client, tenant_member):
    client.force_login(tenant_member)

    response = client.post(reverse("profile"), {"time_zone": "Europe/Paris"})

    assert response.status_code == 302
    assert UserPreference.objects.get(user=tenant_member).time_zone == "Europe/Paris"
    assert client.session[SESSION_TIME_ZONE] == "Europe/Paris"
    page = client.get(reverse("profile"))
    assert "Times are shown in Europe/Paris." in page.content.decode()


@pytest.mark.parametrize("value", ["Mars/Olympus", "", "../etc/passwd", "UTC\x00"])
def test_an_unknown_zone_is_refused_and_nothing_is_saved(client, tenant_member, value):
    client.force_login(tenant_member)

    response = client.post(reverse("profile"), {"time_zone": value})

    assert response.status_code == 400
    assert response.context["form"].errors["time_zone"]
    assert not UserPreference.objects.filter(user=tenant_member).exists()


def test_the_zone_is_read_at_sign_in(client):
    user = UserFactory(username="zoe")
    UserPreference.objects.create(user=user, time_zone="Asia/Tokyo")

    client.force_login(user)

    assert client.session[SESSION_TIME_ZONE] == "Asia/Tokyo"
    response = client.get(reverse("profile"))
    assert "Times are shown in Asia/Tokyo." in response.content.decode()
    assert str(timezone.get_current_timezone()) == "UTC"  # reset after it


def test_a_session_without_the_zone_reads_it_once(client):
    user = UserFactory(username="yan")
    client.force_login(user)
    UserPreference.objects.create(user=user, time_zone="America/New_York")
    session = client.session
    del session[SESSION_TIME_ZONE]
    session.save()

    client.get(reverse("profile"))

    assert client.session[SESSION_TIME_ZONE] == "America/New_York"


def test_profile_needs_sign_in(client):
    response = client.get(reverse("profile"))

    assert response.status_code == 302
    assert "/accounts/login/" in response.url
