import pytest
from django.urls import reverse

from tests.factories import TenantFactory

pytestmark = pytest.mark.django_db


def test_member_sees_their_tenant_page(client, tenant_member, tenant):
    client.force_login(tenant_member)

    response = client.get(reverse("integrations:tenant_home", args=[tenant.pk]))

    assert response.status_code == 200
    assert "PagerDuty is not connected for this tenant." in response.content.decode()


def test_member_of_one_tenant_gets_404_for_another(client, tenant_member, development):
    other = TenantFactory(environment=development, name="Globex", slug="globex")
    client.force_login(tenant_member)

    response = client.get(reverse("integrations:tenant_home", args=[other.pk]))

    assert response.status_code == 404
