"""Every write operation × PagerDuty role × portal role: the lesser role wins.

Members may work on incidents and their own overrides; admins may do what
their PagerDuty role allows (integrations/pagerduty/roles.py). A refused
cell makes no PagerDuty call; an allowed one reaches PagerDuty once at least.
"""

import re

import pytest
import responses

from integrations.models import Connection, Membership
from integrations.pagerduty import roles
from integrations.pagerduty.workspace.access import NotAllowed, workspace_open
from integrations.pagerduty.workspace.operations import OPERATIONS
from tests.connect_fixtures import API
from tests.factories import MembershipFactory, UserFactory
from tests.integrations.pagerduty.workspace.conftest import make_connection
from tests.integrations.pagerduty.workspace.test_operations import (
    CALLS,
    FUNCTIONS,
    VALID,
    Ids,
)

pytestmark = pytest.mark.django_db

PD_ROLES = sorted(roles.PD_ROLE_ABILITIES)
PORTAL_ROLES = (Membership.Role.ADMIN, Membership.Role.MEMBER)
WRITES = sorted(name for name, op in OPERATIONS.items() if op.write)
# One answer every operation can read: the overrides list names the
# caller's own user, so a member's own override is found.
ANSWER = {
    "overrides": [{"id": VALID, "user": {"id": VALID, "type": "user_reference"}}],
    **{
        key: {"id": VALID}
        for key in (
            "incident",
            "note",
            "service",
            "team",
            "escalation_policy",
            "user",
            "webhook_subscription",
            "responder_request",
            "alert_grouping_setting",
        )
    },
}


def expected(pd_role: str, portal_role: str, name: str) -> bool:
    ability = roles.ability_for(OPERATIONS[name].scope)
    return roles.pagerduty_allows(role=pd_role, ability=ability) and (
        roles.portal_allows(is_admin=portal_role == "admin", ability=ability)
    )


CELLS = [
    (pd_role, portal_role, name)
    for pd_role in PD_ROLES
    for portal_role in PORTAL_ROLES
    for name in WRITES
]


def test_the_matrix_covers_every_write_and_role():
    assert len(CELLS) == len(PD_ROLES) * 2 * len(WRITES)
    assert len(WRITES) == 37
    assert sum(expected(*cell) for cell in CELLS) > 0


@pytest.mark.parametrize(("pd_role", "portal_role", "name"), CELLS)
def test_role_by_operation(tenant, pagerduty_client, pd_role, portal_role, name):
    person = MembershipFactory(
        tenant=tenant, user=UserFactory(username="person"), role=portal_role
    ).user
    make_connection(tenant, pagerduty_client)
    make_connection(
        tenant,
        pagerduty_client,
        kind=Connection.Kind.PERSONAL,
        user=person,
        token="CANARY-AT-person",
        pd_user=(VALID, "Person", "person@acme.example", pd_role),
    )
    ws = workspace_open(user=person, tenant_id=tenant.pk)

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        for method in ("GET", "POST", "PUT", "DELETE"):
            rsps.add(method, re.compile(re.escape(API) + r"/.*"), json=ANSWER)
        if expected(pd_role, portal_role, name):
            FUNCTIONS[name](ws=ws, **CALLS[name](Ids()))
            writes = [c for c in rsps.calls if c.request.method != "GET"]
            assert writes
            assert all(
                c.request.headers["Authorization"] == "Bearer CANARY-AT-person"
                for c in writes
            )
        else:
            with pytest.raises(NotAllowed):
                FUNCTIONS[name](ws=ws, **CALLS[name](Ids()))
            assert [c for c in rsps.calls if c.request.method != "GET"] == []
