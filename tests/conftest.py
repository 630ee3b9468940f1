import pytest
import responses

from integrations.models import Environment, Membership
from tests.factories import (
    MembershipFactory,
    OAuthClientFactory,
    TenantFactory,
    UserFactory,
)

pytest_plugins = [
    "tests.browser_fixtures",
    "tests.connect_fixtures",
    "tests.sandbox_fixtures",
]


@pytest.fixture(autouse=True)
def _empty_cache():
    """Start every test with an empty cache (rate-limit counters, reads)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def mocked_responses():
    """Fake the network at the `requests` boundary; unused mocks fail."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


@pytest.fixture
def development(db):
    return Environment.objects.get(slug="development")


@pytest.fixture
def staging(db):
    return Environment.objects.get(slug="staging")


@pytest.fixture
def tenant(development):
    return TenantFactory(environment=development, name="Acme Corp", slug="acme")


@pytest.fixture
def tenant_admin(tenant):
    return MembershipFactory(
        tenant=tenant, user=UserFactory(username="alice"), role=Membership.Role.ADMIN
    ).user


@pytest.fixture
def tenant_member(tenant):
    return MembershipFactory(tenant=tenant, user=UserFactory(username="bob")).user


@pytest.fixture
def staff_user(db):
    return UserFactory(username="staff", is_staff=True, is_superuser=True)


@pytest.fixture
def pagerduty_client(development):
    """The development environment's PagerDuty app, fully configured."""
    return OAuthClientFactory(environment=development)
