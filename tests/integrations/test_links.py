"""Personal PagerDuty links: each person acts in PagerDuty as themselves."""

import re
from datetime import timedelta
from io import StringIO
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from integrations.crypto import KEY_RING
from integrations.models import AuditAction, AuditEvent, Connection, Membership
from integrations.pagerduty.workspace import services
from integrations.pagerduty.workspace.access import NotAllowed, workspace_open
from tests.connect_fixtures import (
    ACCESS,
    AUTHORIZE_URL,
    REFRESH,
    USER,
    callback,
)
from tests.factories import MembershipFactory, TenantFactory, UserFactory
from tests.helpers import raw_column
from tests.integrations.pagerduty.workspace import payloads as pd
from tests.integrations.pagerduty.workspace.conftest import make_connection

pytestmark = pytest.mark.django_db

BOB = {
    "id": "PBOB001",
    "type": "user",
    "name": "Bob Baker",
    "email": "bob@acme.example",
    "role": "user",
}
BOB_TOKEN = "CANARY-AT-bob-own-link"
ALICE_TOKEN = "CANARY-AT-workspace-token"


def start_link(client, tenant) -> dict:
    """POST Link my PagerDuty account; return the authorize query."""
    response = client.post(reverse("integrations:tenant_link", args=[tenant.pk]))
    assert response.status_code == 302, response.content[:500]
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == AUTHORIZE_URL
    return parse_qs(location.query)


def link_bob(client, fake_identity, tenant, user=BOB, **claims):
    state = start_link(client, tenant)["state"][0]
    fake_identity.mock_token(id_token=fake_identity.id_token(**claims))
    fake_identity.mock_jwks()
    fake_identity.mock_me(user=user)
    return callback(client, code="the-code-123", state=state)


@pytest.fixture
def ws_connection(tenant, tenant_admin, pagerduty_client):
    """The tenant connection Alice made, and her link."""
    return make_connection(tenant, pagerduty_client, user=tenant_admin)


@pytest.fixture
def bob_client(client, tenant_member):
    client.force_login(tenant_member)
    return client


@pytest.fixture
def bob_link(tenant, tenant_member, pagerduty_client, ws_connection):
    """Bob's own link, as PagerDuty's Bob (a Manager)."""
    return make_connection(
        tenant,
        pagerduty_client,
        kind=Connection.Kind.PERSONAL,
        user=tenant_member,
        token=BOB_TOKEN,
        pd_user=("PBOB001", "Bob Baker", "bob@acme.example", "user"),
    )


# --- Linking ----------------------------------------------------------------


def test_a_member_links_their_own_pagerduty_user(
    bob_client, tenant, tenant_member, ws_connection, fake_identity
):
    response = link_bob(bob_client, fake_identity, tenant, sub="PBOB001")

    link = Connection.objects.get(kind=Connection.Kind.PERSONAL)
    assert response.status_code == 302
    assert response["Location"] == reverse("integrations:tenant_home", args=[tenant.pk])
    assert (link.user, link.pd_user_id, link.pd_user_role) == (
        tenant_member,
        "PBOB001",
        "user",
    )
    assert (link.access_token, link.refresh_token) == (ACCESS, REFRESH)
    assert ACCESS not in raw_column(Connection, "access_token", link.pk)
    assert REFRESH not in raw_column(Connection, "refresh_token", link.pk)
    assert not hasattr(link, "webhook_subscription")
    event = AuditEvent.objects.get(action=AuditAction.LINK_CREATED)
    assert (event.actor, event.details["pd_user_id"]) == (tenant_member, "PBOB001")
    page = bob_client.get(reverse("integrations:tenant_home", args=[tenant.pk]))
    assert "You act in PagerDuty as Bob Baker (Manager)" in page.content.decode()


def test_linking_a_user_of_another_pagerduty_account_is_refused(
    bob_client, tenant, ws_connection, fake_identity
):
    response = link_bob(
        bob_client, fake_identity, tenant, account_id="POTHER1", subdomain="globex"
    )

    assert response.status_code == 400
    assert "belongs to another account" in response.content.decode()
    assert not Connection.objects.filter(kind=Connection.Kind.PERSONAL).exists()


def test_a_pagerduty_user_linked_to_someone_else_stays_theirs(
    bob_client, tenant, ws_connection, fake_identity
):
    response = link_bob(bob_client, fake_identity, tenant, user=USER)

    assert response.status_code == 409
    assert "linked to someone else" in response.content.decode()
    assert not Connection.objects.filter(kind=Connection.Kind.PERSONAL).exists()
    ws_connection.refresh_from_db()
    assert ws_connection.user.username == "alice"


def test_linking_needs_a_connected_tenant(bob_client, tenant, pagerduty_client):
    response = bob_client.post(reverse("integrations:tenant_link", args=[tenant.pk]))

    assert response.status_code == 409
    assert "not connected to PagerDuty" in response.content.decode()


def test_linking_again_keeps_one_link(
    bob_client, tenant, ws_connection, bob_link, fake_identity
):
    link_bob(bob_client, fake_identity, tenant, sub="PBOB001")

    links = Connection.objects.filter(kind=Connection.Kind.PERSONAL)
    assert [link.pk for link in links.exclude(status="revoked")] == [bob_link.pk]
    assert links.get().access_token == ACCESS
    assert AuditEvent.objects.filter(action=AuditAction.LINK_RELINKED).count() == 1


# --- Writes act as the person -------------------------------------------------


def test_without_a_link_a_member_reads_but_cannot_write(
    bob_client, tenant, ws_connection, mocked_responses
):
    mocked_responses.get(pd.url("/incidents/PINC001"), json={"incident": pd.incident()})
    mocked_responses.get(
        pd.url("/incidents/PINC001/log_entries"),
        json={"log_entries": [], "more": False, "limit": 100, "offset": 0},
    )
    mocked_responses.get(pd.url("/incidents/PINC001/notes"), json={"notes": []})

    page = bob_client.get(
        reverse("integrations:incident_detail", args=[tenant.pk, "PINC001"])
    )
    forced = bob_client.post(
        reverse("integrations:incident_acknowledge", args=[tenant.pk, "PINC001"])
    )

    html = page.content.decode()
    assert page.status_code == 200
    assert "Link your PagerDuty account to act as yourself." in html
    assert 'id="action-acknowledge"' not in html
    assert forced.status_code == 403
    assert "Link your PagerDuty account" in forced.content.decode()
    assert len(mocked_responses.calls) == 3  # the three reads, no write


def test_a_members_write_goes_out_with_their_own_token_never_alices(
    bob_client, tenant, bob_link
):
    with responses.RequestsMock() as rsps:
        put = rsps.put(
            pd.url("/incidents/PINC001"),
            json={"incident": pd.incident(status="acknowledged")},
            match=[
                responses.matchers.header_matcher(
                    {"Authorization": f"Bearer {BOB_TOKEN}", "From": "bob@acme.example"}
                )
            ],
        )

        response = bob_client.post(
            reverse("integrations:incident_acknowledge", args=[tenant.pk, "PINC001"])
        )

    assert response.status_code == 302
    assert put.call_count == 1
    event = AuditEvent.objects.get(action=AuditAction.RESOURCE_CHANGED)
    assert event.actor.username == "bob"
    assert (event.details["pd_user_id"], event.details["pd_user_name"]) == (
        "PBOB001",
        "Bob Baker",
    )
    assert event.details["operation"] == "incident_acknowledge"


def test_unlinking_takes_effect_at_once(bob_client, tenant, bob_link, mocked_responses):
    unlink = bob_client.post(reverse("integrations:tenant_unlink", args=[tenant.pk]))
    forced = bob_client.post(
        reverse("integrations:incident_acknowledge", args=[tenant.pk, "PINC001"])
    )

    bob_link.refresh_from_db()
    assert unlink.status_code == 302
    assert (bob_link.status, bob_link.access_token, bob_link.refresh_token) == (
        Connection.Status.REVOKED,
        "",
        "",
    )
    assert forced.status_code == 403
    assert len(mocked_responses.calls) == 0
    assert AuditEvent.objects.filter(action=AuditAction.LINK_REMOVED).count() == 1


def test_a_member_may_not_change_the_setup_whatever_their_pagerduty_role(
    bob_client, tenant, bob_link, mocked_responses
):
    forced = bob_client.post(
        reverse("integrations:service_create", args=[tenant.pk]),
        {"name": "x", "escalation_policy": "PEP0001"},
    )

    assert forced.status_code == 403
    assert "Your portal role (member) does not allow you to change services" in (
        forced.content.decode()
    )
    assert len(mocked_responses.calls) == 0


@pytest.fixture
def admin_as_responder(client, tenant, tenant_admin, pagerduty_client):
    """A tenant admin whose own PagerDuty user is only a Responder."""
    make_connection(
        tenant,
        pagerduty_client,
        user=tenant_admin,
        pd_user=("PDAVE01", "Dave Diaz", "dave@acme.example", "limited_user"),
    )
    client.force_login(tenant_admin)
    return client


def test_a_responder_sees_no_user_management_and_a_forced_post_is_refused(
    admin_as_responder, tenant, mocked_responses
):
    mocked_responses.get(
        pd.url("/users"),
        json={"users": [], "more": False, "limit": 25, "offset": 0, "total": 0},
    )
    listing = admin_as_responder.get(
        reverse("integrations:user_list", args=[tenant.pk])
    )
    forced = admin_as_responder.post(
        reverse("integrations:user_create", args=[tenant.pk]),
        {"name": "Zed", "email": "zed@acme.example", "role": "limited_user"},
    )
    delete = admin_as_responder.post(
        reverse("integrations:user_delete", args=[tenant.pk, "PUSER02"])
    )

    html = listing.content.decode()
    assert 'id="user-create"' not in html
    assert "Your PagerDuty role (Responder) does not allow you to manage users." in html
    assert forced.status_code == delete.status_code == 403
    assert "Your PagerDuty role (Responder)" in forced.content.decode()
    assert len(mocked_responses.calls) == 1  # the list only


def test_members_change_only_their_own_overrides(
    tenant, tenant_member, bob_link, mocked_responses
):
    ws = workspace_open(user=tenant_member, tenant_id=tenant.pk)
    start = timezone.now() + timedelta(days=1)

    with pytest.raises(NotAllowed):
        services.schedule_override_create(
            ws=ws,
            schedule_id="PSCH001",
            user_id="PUSER01",
            start=start,
            end=start + timedelta(hours=2),
        )
    mocked_responses.get(
        pd.url("/schedules/PSCH001/overrides"),
        json={"overrides": [{"id": "POVR009", "user": {"id": "PUSER01"}}]},
    )
    with pytest.raises(NotAllowed):
        services.schedule_override_delete(
            ws=ws, schedule_id="PSCH001", override_id="POVR009"
        )

    assert [call.request.method for call in mocked_responses.calls] == ["GET"]


# --- Admins see and remove links; settings --------------------------------------


def test_a_tenant_admin_sees_who_linked_and_unlinks_a_member(
    client, tenant, tenant_admin, bob_link
):
    client.force_login(tenant_admin)
    page = client.get(reverse("integrations:tenant_home", args=[tenant.pk]))
    response = client.post(
        reverse("integrations:tenant_unlink", args=[tenant.pk]), {"link": bob_link.pk}
    )

    html = page.content.decode()
    assert f'id="link-{bob_link.pk}"' in html
    assert "Bob Baker" in html
    bob_link.refresh_from_db()
    assert response.status_code == 302
    assert bob_link.status == Connection.Status.REVOKED
    event = AuditEvent.objects.get(action=AuditAction.LINK_REMOVED)
    assert (event.actor, event.details["user"]) == (tenant_admin, "bob")


def test_a_member_cannot_unlink_someone_else(bob_client, tenant, ws_connection):
    response = bob_client.post(
        reverse("integrations:tenant_unlink", args=[tenant.pk]),
        {"link": ws_connection.pk},
    )

    ws_connection.refresh_from_db()
    assert response.status_code == 403
    assert ws_connection.user.username == "alice"


def test_links_of_another_tenant_are_out_of_reach(
    client, development, tenant, bob_link, pagerduty_client
):
    other = TenantFactory(environment=development, name="Globex", slug="globex")
    gina = MembershipFactory(
        tenant=other, user=UserFactory(username="gina"), role=Membership.Role.ADMIN
    ).user
    client.force_login(gina)

    response = client.post(
        reverse("integrations:tenant_unlink", args=[tenant.pk]), {"link": bob_link.pk}
    )
    own = client.post(
        reverse("integrations:tenant_unlink", args=[other.pk]), {"link": bob_link.pk}
    )

    bob_link.refresh_from_db()
    assert (response.status_code, own.status_code) == (404, 404)
    assert bob_link.status == Connection.Status.ACTIVE


def test_with_member_reads_off_a_member_needs_a_link_to_open_the_workspace(
    client, tenant, tenant_admin, tenant_member, ws_connection, mocked_responses
):
    client.force_login(tenant_admin)
    client.post(reverse("integrations:tenant_read_setting", args=[tenant.pk]))
    client.force_login(tenant_member)

    response = client.get(reverse("integrations:incident_list", args=[tenant.pk]))

    tenant.refresh_from_db()
    assert tenant.members_read_through_tenant is False
    assert response.status_code == 403
    assert "Link your PagerDuty account" in response.content.decode()
    assert len(mocked_responses.calls) == 0
    assert AuditEvent.objects.filter(action=AuditAction.TENANT_READ_SETTING).exists()


def test_disconnecting_the_tenant_revokes_every_link(
    client, tenant, tenant_admin, bob_link, ws_connection, mocked_responses
):
    client.force_login(tenant_admin)

    client.post(
        reverse("integrations:tenant_disconnect", args=[tenant.pk]), {"confirm": "yes"}
    )

    assert set(
        Connection.objects.filter(tenant=tenant).values_list("status", "access_token")
    ) == {(Connection.Status.REVOKED, "")}


def test_deleting_a_user_deletes_their_link_and_keeps_the_tenant_connection(
    tenant, tenant_admin, tenant_member, bob_link, ws_connection
):
    tenant_member.delete()
    tenant_admin.delete()

    ws_connection.refresh_from_db()
    assert not Connection.objects.filter(pk=bob_link.pk).exists()
    assert (ws_connection.user, ws_connection.status) == (None, "active")


def test_key_rotation_re_encrypts_personal_links(
    tenant, tenant_member, pagerduty_client, settings
):
    old = list(settings.FIELD_ENCRYPTION_KEYS)
    link = make_connection(
        tenant,
        pagerduty_client,
        kind=Connection.Kind.PERSONAL,
        user=tenant_member,
        token=BOB_TOKEN,
    )
    before = raw_column(Connection, "access_token", link.pk)
    settings.FIELD_ENCRYPTION_KEYS = ["new-key-for-the-rotation-test-0002", *old]
    KEY_RING.reset()

    call_command("rotate_encryption_keys", stdout=StringIO())
    settings.FIELD_ENCRYPTION_KEYS = ["new-key-for-the-rotation-test-0002"]
    KEY_RING.reset()

    link.refresh_from_db()
    assert raw_column(Connection, "access_token", link.pk) != before
    assert link.access_token == BOB_TOKEN
    KEY_RING.reset()


def test_link_tokens_never_reach_pages(client, tenant, tenant_admin, bob_link):
    client.force_login(tenant_admin)
    pages = [
        client.get(reverse("integrations:tenant_home", args=[tenant.pk])),
        client.get(reverse("integrations:audit_list")),
    ]

    for page in pages:
        assert BOB_TOKEN not in page.content.decode()
        assert not re.search(r"CANARY-(AT|RT)-", page.content.decode())


def test_the_staff_tenants_page_counts_who_linked(
    admin_client, development, tenant, bob_link, ws_connection
):
    response = admin_client.get(
        reverse("integrations:tenant_list", args=[development.slug])
    )

    assert response.status_code == 200
    row = re.search(
        rf'id="tenant-{tenant.pk}".*?</tr>', response.content.decode(), re.S
    )
    assert row is not None
    assert "2 linked" in row.group(0)
