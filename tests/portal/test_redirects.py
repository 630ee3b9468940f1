import pytest
from django.test import RequestFactory
from django.urls import reverse

from portal.redirects import has_hidden_characters

pytestmark = pytest.mark.django_db

AMBIGUOUS = ["//127.0.0.1\u3000", "/tenants/\u200b1/", "/x\x00", "//localhost\u00a0/"]


@pytest.mark.parametrize("target", AMBIGUOUS)
def test_a_next_with_hidden_characters_falls_back_to_the_default(
    client, tenant_admin, target
):
    response = client.post(
        reverse("account_login"),
        {"login": "alice", "password": "password", "next": target},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("home")


@pytest.mark.parametrize("target", AMBIGUOUS)
def test_the_workspace_refuses_the_same_targets(target):
    from integrations.pagerduty.workspace.views.base import safe_next

    request = RequestFactory().post("/x/", {"next": target})

    assert safe_next(request, "/fallback/") == "/fallback/"


def test_plain_paths_are_not_hidden():
    assert not has_hidden_characters("/tenants/1/pagerduty/incidents/?status=all")
