import importlib.util
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from integrations.models import AuditEvent, OAuthClient
from pagerduty_sandbox.seed import (
    classic_app_credentials,
    demo_app_credentials,
    tenant_app_credentials,
)
from tests.helpers import SHARED, skip_unless_available

ROOT = Path(__file__).resolve().parents[2]
SPEC = SHARED / "pagerduty" / "openapiv3.json"


def _derive_module():
    path = ROOT / "scripts" / "derive_openapi_scopes.py"
    spec = importlib.util.spec_from_file_location("derive_openapi_scopes", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.django_db
def test_configure_demo_writes_the_development_app(development, staging):
    demo = demo_app_credentials(1)

    call_command("pagerduty_sandbox_configure_demo")

    client = OAuthClient.objects.get(environment=development, tenant=None)
    assert client.client_id == demo.client_id
    assert client.client_secret == demo.client_secret
    assert (client.region, client.subdomain) == ("us", "acme")
    assert len(client.scope_list) == 15
    assert not OAuthClient.objects.filter(environment=staging).exists()


@pytest.mark.django_db
def test_configure_demo_is_idempotent(development):
    call_command("pagerduty_sandbox_configure_demo")
    events = AuditEvent.objects.count()

    call_command("pagerduty_sandbox_configure_demo")

    assert OAuthClient.objects.filter(environment=development).count() == 1
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_configure_demo_proves_the_credentials_on_a_running_sandbox(
    development, pagerduty_sandbox
):
    call_command(
        "pagerduty_sandbox_configure_demo", "--sandbox-url", pagerduty_sandbox.url
    )

    assert pagerduty_sandbox.request_log[-1] == ("POST", "/oauth/token", 200)


@pytest.mark.django_db
def test_configure_demo_refuses_a_sandbox_with_another_seed(
    development, pagerduty_sandbox
):
    with pytest.raises(CommandError, match="same --seed"):
        call_command(
            "pagerduty_sandbox_configure_demo",
            "--seed",
            "2",
            "--sandbox-url",
            pagerduty_sandbox.url,
        )

    assert not OAuthClient.objects.filter(environment=development).exists()


@pytest.mark.django_db
def test_configure_demo_reports_an_unreachable_sandbox(development):
    with pytest.raises(CommandError, match="did not answer"):
        call_command(
            "pagerduty_sandbox_configure_demo",
            "--sandbox-url",
            "http://127.0.0.1:9",
            "--wait",
            "0.3",
        )


@pytest.mark.django_db
def test_configure_demo_names_a_missing_environment():
    with pytest.raises(CommandError, match="No environment 'nowhere'"):
        call_command("pagerduty_sandbox_configure_demo", "--environment", "nowhere")


def test_committed_scope_map_equals_a_fresh_derivation():
    skip_unless_available(SPEC.is_file(), f"{SPEC} is not present")
    module = _derive_module()

    fresh = module.render(module.derive(SPEC.read_bytes()))

    assert module.OUTPUT.read_text() == fresh


def test_scope_map_records_its_source_and_the_seed_scopes():
    data = json.loads(
        (ROOT / "integrations" / "pagerduty" / "openapi_scopes.json").read_text()
    )

    assert data["source"]["commit"] == "91a06fb3c64b0ab2b2bd6c485d12b327dfb55c18"
    assert data["source"]["sha256"] == (
        "b2e80f8b83b170f29702e96a69adf230702b4ec43dddab7e348a2985c707ef35"
    )
    assert data["scopes"]["GET /incidents"] == "incidents.read"
    assert data["scopes"]["PUT /incidents/{id}"] == "incidents.write"
    assert data["scopes"]["GET /oncalls"] == "oncalls.read"
    assert "GET /users/me" in data["unscoped"]
    assert "POST /incidents" in data["from_header_required"]


def test_configure_demo_gives_globex_its_own_app_and_production_a_classic_one(
    development,
):
    call_command("seed_demo", stdout=StringIO())

    call_command("pagerduty_sandbox_configure_demo", stdout=StringIO())

    development.refresh_from_db()
    globex = OAuthClient.objects.get(tenant__slug="globex")
    production = OAuthClient.objects.get(
        environment__slug="production", tenant__isnull=True
    )
    assert development.tenant_apps_allowed is True
    assert (globex.client_id, globex.region, globex.subdomain) == (
        tenant_app_credentials(1).client_id,
        "eu",
        "globex",
    )
    assert globex.in_use
    assert (production.app_type, production.scopes, production.client_id) == (
        "classic",
        "write",
        classic_app_credentials(1).client_id,
    )
    assert production.client_secret == classic_app_credentials(1).client_secret
