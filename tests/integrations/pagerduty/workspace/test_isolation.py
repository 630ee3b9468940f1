"""A member of one tenant never reaches another tenant's workspace."""

import pytest
from django.urls import reverse

from integrations.pagerduty.workspace.urls import urlpatterns
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SAMPLE_IDS = {
    "incident_id": "PINC001",
    "service_id": "PSVC001",
    "schedule_id": "PSCH001",
    "override_id": "POVR001",
    "policy_id": "PEP0001",
    "user_id": "PUSER01",
    "team_id": "PTEAM01",
    "subscription_id": "PWH0001",
}


def workspace_urls(tenant_id: int) -> list[str]:
    urls = []
    for pattern in urlpatterns:
        kwargs = {
            name: SAMPLE_IDS[name]
            for name in pattern.pattern.converters
            if name in SAMPLE_IDS
        }
        urls.append(
            reverse(
                f"integrations:{pattern.name}",
                kwargs={"tenant_id": tenant_id, **kwargs},
            )
        )
    return urls


def test_every_workspace_url_is_covered():
    assert len(workspace_urls(1)) == len(urlpatterns) == 49


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("who", ["member_of_tenant", "member_of_other", "no_tenant"])
def test_non_members_get_404_everywhere_and_nothing_is_sent(
    client,
    tenant,
    ws_connection,
    other_tenant,
    tenant_member,
    mocked_responses,
    method,
    who,
):
    users = {
        "member_of_tenant": (tenant_member, other_tenant),
        "member_of_other": (
            other_tenant.memberships.get().user,
            tenant,
        ),
        "no_tenant": (UserFactory(username="mallory"), tenant),
    }
    user, target = users[who]
    client.force_login(user)

    statuses = {
        url: getattr(client, method)(url).status_code
        for url in workspace_urls(target.pk)
    }

    allowed = {404, 405} if method == "get" else {404}
    assert set(statuses.values()) <= allowed, statuses
    assert 404 in statuses.values()
    assert len(mocked_responses.calls) == 0


def test_anonymous_users_are_sent_to_sign_in(client, tenant, mocked_responses):
    for url in workspace_urls(tenant.pk):
        response = client.post(url)

        assert response.status_code in (302, 405)
        if response.status_code == 302:
            assert "/accounts/login/" in response["Location"]
    assert len(mocked_responses.calls) == 0


def test_unknown_tenant_is_404(linked_client, mocked_responses):
    assert linked_client.get(workspace_urls(999_999)[0]).status_code == 404
