import factory
from django.contrib.auth import get_user_model

from integrations.models import Environment, Membership, OAuthClient, Tenant
from integrations.pagerduty import scopes as pd_scopes

# Unique canaries: a leak scan can search every sink for them.
CLIENT_SECRET = "CANARY-CS-5f1d0c2e-secret-value"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    password = factory.django.Password("password")


class EnvironmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Environment
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Environment {n}")
    slug = factory.Sequence(lambda n: f"environment-{n}")


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    environment = factory.LazyFunction(
        lambda: Environment.objects.get(slug="development")
    )
    name = factory.Sequence(lambda n: f"Tenant {n}")
    slug = factory.Sequence(lambda n: f"tenant-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    tenant = factory.SubFactory(TenantFactory)
    role = Membership.Role.MEMBER


class OAuthClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OAuthClient

    environment = factory.LazyFunction(
        lambda: Environment.objects.get(slug="development")
    )
    client_id = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
    client_secret = CLIENT_SECRET
    secret_last4 = factory.LazyAttribute(lambda c: c.client_secret[-4:])
    scopes = pd_scopes.canonical(pd_scopes.ALL_SCOPES)
    region = "us"
    subdomain = "acme"
