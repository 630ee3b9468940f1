import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_tenant_page_links_to_the_workspace_when_connected(linked_client, tenant):
    html = linked_client.get(
        reverse("integrations:tenant_home", args=[tenant.pk])
    ).content.decode()

    assert reverse("integrations:workspace_overview", args=[tenant.pk]) in html


def test_tenant_page_has_no_workspace_link_without_a_connection(
    client, tenant, tenant_member
):
    client.force_login(tenant_member)

    html = client.get(reverse("integrations:tenant_home", args=[tenant.pk])).content

    assert b'id="open-workspace"' not in html


def test_workspace_without_a_connection_says_so_and_calls_nothing(
    client, tenant, tenant_member, mocked_responses
):
    client.force_login(tenant_member)

    response = client.get(reverse("integrations:incident_list", args=[tenant.pk]))

    assert response.status_code == 409
    assert b"PagerDuty is not connected for this tenant" in response.content
    assert len(mocked_responses.calls) == 0
