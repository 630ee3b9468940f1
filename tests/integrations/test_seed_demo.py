import pytest
from django.core.management import call_command

from integrations.models import Membership, Tenant

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_tenants_and_logins_and_can_run_twice(
    django_user_model, client
):
    call_command("seed_demo")
    call_command("seed_demo")

    assert sorted(Tenant.objects.values_list("name", flat=True)) == [
        "Acme Corp",
        "Globex",
        "Initech",
    ]
    assert django_user_model.objects.get(username="admin").is_staff
    roles = dict(Membership.objects.values_list("user__username", "role"))
    assert roles == {"alice": "admin", "bob": "member", "gina": "admin", "ian": "admin"}
    assert Tenant.objects.get(slug="initech").environment.slug == "production"
    assert client.login(username="alice", password="alice")
