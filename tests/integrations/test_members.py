"""Tenant admins invite people by email and change roles in the portal."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from integrations.models import AuditEvent, Connection, Invitation, Membership
from integrations.services.members import token_hash
from tests.factories import MembershipFactory, UserFactory
from tests.integrations.pagerduty.workspace.conftest import make_connection

pytestmark = pytest.mark.django_db


def members_url(tenant):
    return reverse("integrations:tenant_members", args=[tenant.pk])


def invite(client, tenant, email="carol@acme.example", role="member"):
    return client.post(members_url(tenant), {"email": email, "role": role})


def link_in(mail) -> str:
    return re.search(r"https?://\S+/invitations/\S+/", mail.body).group(0)


@pytest.fixture
def admin_client(client, tenant_admin):
    client.force_login(tenant_admin)
    return client


def test_an_admin_invites_by_email_and_only_the_hash_is_kept(
    admin_client, tenant, mailoutbox
):
    response = invite(admin_client, tenant, role="admin")

    assert response.status_code == 302
    (mail,) = mailoutbox
    assert mail.to == ["carol@acme.example"]
    assert "Acme Corp" in mail.subject
    link = link_in(mail)
    token = link.rstrip("/").rsplit("/", 1)[1]
    invitation = Invitation.objects.get()
    assert invitation.token_hash == token_hash(token)
    assert token not in invitation.token_hash
    assert invitation.role == "admin"
    event = AuditEvent.objects.get(action="member.invited")
    assert event.details == {"invitation_id": invitation.pk, "role": "admin"}
    assert "carol@acme.example" not in str(event.details)
    page = admin_client.get(members_url(tenant)).content.decode()
    assert "carol@acme.example" in page.split('id="invitations"')[1]


def test_a_new_person_creates_an_account_from_the_link_and_joins(
    admin_client, client, tenant, mailoutbox
):
    invite(admin_client, tenant)
    link = link_in(mailoutbox[0])
    admin_client.logout()

    page = client.get(link)
    response = client.post(
        link,
        {
            "username": "carol",
            "password1": "Long-pass-1234!",
            "password2": "Long-pass-1234!",
        },
    )

    assert page.status_code == 200
    assert page["Referrer-Policy"] == "same-origin"
    assert "no-store" in page["Cache-Control"]
    assert 'id="account-form"' in page.content.decode()
    assert response.status_code == 302
    assert response["Location"] == reverse("integrations:tenant_home", args=[tenant.pk])
    carol = get_user_model().objects.get(username="carol")
    assert carol.email == "carol@acme.example"
    assert Membership.objects.get(user=carol, tenant=tenant).role == "member"
    assert client.get(link).status_code == 404  # the link is spent
    assert AuditEvent.objects.filter(action="member.joined").count() == 1


def test_a_weak_password_is_refused_and_nothing_is_created(
    admin_client, client, tenant, mailoutbox
):
    invite(admin_client, tenant)
    link = link_in(mailoutbox[0])
    admin_client.logout()

    response = client.post(
        link, {"username": "carol", "password1": "123", "password2": "123"}
    )

    assert response.status_code == 400
    assert not get_user_model().objects.filter(username="carol").exists()
    assert Invitation.objects.get().accepted_at is None


def test_someone_with_an_account_signs_in_then_joins(
    admin_client, client, tenant, mailoutbox
):
    carol = UserFactory(username="carol", email="Carol@Acme.example")
    invite(admin_client, tenant)
    link = link_in(mailoutbox[0])
    admin_client.logout()

    anonymous = client.get(link).content.decode()
    client.force_login(carol)
    response = client.post(link)

    assert 'id="accept-sign-in"' in anonymous
    assert "next=/invitations/" in anonymous
    assert response.status_code == 302
    assert Membership.objects.filter(user=carol, tenant=tenant).exists()


def test_a_forwarded_link_does_not_let_someone_else_in(
    admin_client, client, tenant, mailoutbox
):
    invite(admin_client, tenant)
    link = link_in(mailoutbox[0])
    mallory = UserFactory(username="mallory", email="mallory@evil.example")
    client.force_login(mallory)

    page = client.get(link)
    response = client.post(link)

    assert 'id="invitation-other-email"' in page.content.decode()
    assert response.status_code == 400
    assert not Membership.objects.filter(user=mallory).exists()
    assert Invitation.objects.get().accepted_at is None


@pytest.mark.parametrize("token", ["x" * 43, "short", "a" * 200])
def test_an_unknown_link_says_so(client, token):
    response = client.get(reverse("integrations:invitation_accept", args=[token]))

    assert response.status_code == 404
    assert 'id="invitation-invalid"' in response.content.decode()


def test_a_withdrawn_or_expired_invitation_stops_working(
    admin_client, client, tenant, mailoutbox
):
    from django.utils import timezone

    invite(admin_client, tenant, email="one@acme.example")
    invite(admin_client, tenant, email="two@acme.example")
    first, second = link_in(mailoutbox[0]), link_in(mailoutbox[1])
    withdrawn = Invitation.objects.get(email="one@acme.example")
    admin_client.post(
        reverse("integrations:tenant_invitation_revoke", args=[tenant.pk, withdrawn.pk])
    )
    Invitation.objects.filter(email="two@acme.example").update(
        expires_at=timezone.now()
    )

    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 404
    assert AuditEvent.objects.filter(action="member.invitation_revoked").count() == 1


def test_inviting_again_replaces_the_open_invitation(admin_client, tenant, mailoutbox):
    invite(admin_client, tenant)
    invite(admin_client, tenant, role="admin")

    assert Invitation.objects.filter(revoked_at__isnull=True).count() == 1
    assert Invitation.objects.get(revoked_at__isnull=True).role == "admin"


def test_inviting_a_member_again_is_refused(
    admin_client, tenant, tenant_member, mailoutbox
):
    tenant_member.email = "bob@acme.example"
    tenant_member.save()

    response = invite(admin_client, tenant, email="BOB@acme.example")

    assert response.status_code == 400
    assert "already a member" in response.content.decode()
    assert mailoutbox == []


@pytest.mark.parametrize(
    "data",
    [
        {"email": "not-an-email", "role": "member"},
        {"email": "a@b.example", "role": "owner"},
    ],
)
def test_bad_invitations_are_refused(admin_client, tenant, mailoutbox, data):
    response = admin_client.post(members_url(tenant), data)

    assert response.status_code == 400
    assert not Invitation.objects.exists()
    assert mailoutbox == []


def test_members_see_people_but_cannot_invite(
    client, tenant, tenant_member, mailoutbox
):
    client.force_login(tenant_member)

    page = client.get(members_url(tenant))
    response = invite(client, tenant)

    assert page.status_code == 200
    assert 'id="invite-form"' not in page.content.decode()
    assert 'id="members-admin-only"' in page.content.decode()
    assert response.status_code == 403
    assert mailoutbox == []


def test_an_admin_changes_a_role_and_it_is_audited(admin_client, tenant, tenant_member):
    member = Membership.objects.get(user=tenant_member)

    admin_client.post(
        reverse("integrations:tenant_member_role", args=[tenant.pk, member.pk]),
        {f"m{member.pk}-role": "admin"},
    )

    member.refresh_from_db()
    assert member.role == "admin"
    event = AuditEvent.objects.get(action="member.role_changed")
    assert event.details == {
        "membership_id": member.pk,
        "from": "member",
        "to": "admin",
    }


def test_the_last_admin_stays_an_admin(admin_client, tenant, tenant_admin):
    mine = Membership.objects.get(user=tenant_admin)

    response = admin_client.post(
        reverse("integrations:tenant_member_role", args=[tenant.pk, mine.pk]),
        {f"m{mine.pk}-role": "member"},
        follow=True,
    )

    mine.refresh_from_db()
    assert mine.role == "admin"
    assert "needs at least one admin" in response.content.decode()
    assert not AuditEvent.objects.exists()


def test_removing_asks_then_ends_the_persons_link(
    admin_client, tenant, tenant_member, pagerduty_client
):
    make_connection(tenant, pagerduty_client)
    link = make_connection(
        tenant,
        pagerduty_client,
        user=tenant_member,
        kind=Connection.Kind.PERSONAL,
        token="CANARY-AT-bob",
        pd_user=("PUSER02", "Bob", "bob@acme.example", "limited_user"),
    )
    member = Membership.objects.get(user=tenant_member)
    url = reverse("integrations:tenant_member_remove", args=[tenant.pk, member.pk])

    question = admin_client.get(url)
    admin_client.post(url, {"confirm": "yes"})

    assert "Remove bob from Acme Corp?" in question.content.decode()
    assert not Membership.objects.filter(pk=member.pk).exists()
    link.refresh_from_db()
    assert link.status == Connection.Status.REVOKED
    assert AuditEvent.objects.filter(action="member.removed").count() == 1


def test_another_tenants_member_cannot_be_touched(admin_client, tenant, development):
    from tests.factories import TenantFactory

    other = TenantFactory(environment=development, slug="globex", name="Globex")
    stranger = MembershipFactory(tenant=other, user=UserFactory(username="gina"))

    response = admin_client.post(
        reverse("integrations:tenant_member_role", args=[tenant.pk, stranger.pk]),
        {f"m{stranger.pk}-role": "admin"},
    )

    assert response.status_code == 404
    stranger.refresh_from_db()
    assert stranger.role == "member"


def test_the_only_admin_is_offered_no_role_change_or_removal(
    admin_client, tenant, tenant_admin, tenant_member
):
    mine = Membership.objects.get(user=tenant_admin)
    bob = Membership.objects.get(user=tenant_member)

    html = admin_client.get(members_url(tenant)).content.decode()

    row = html.split(f'id="member-{mine.pk}"')[1].split("</tr>")[0]
    assert "the only admin" in row
    assert "tenant_member_remove" not in row
    assert "/remove/" not in row
    assert f"/members/{bob.pk}/remove/" in html
