"""What a user's base role lets them change (PagerDuty "User Roles").

From PagerDuty's user-role tables (support.pagerduty.com "User Roles",
"Permissions and User Roles"; the Limited User announcement): stakeholders
and observers read but never write. Responders (API roles `limited_user`,
`restricted_access`) trigger, acknowledge, reassign and resolve incidents
and create or delete schedule overrides, but do not change the account's
setup. Managers (API role `user`) also change services, schedules,
escalation policies, teams and webhooks; Global Admins and the Account
Owner also manage users. User API keys and OAuth user tokens act with
these rights; OAuth user tokens of read-only roles also lose their write
scopes at the grant (identity.granted_scopes, NOTES §8.5). PagerDuty does
not document per-operation rules for `restricted_access` (its access
depends on per-object grants); the sandbox treats it as a responder.
"""

READ_ONLY_ROLES = frozenset({"read_only_user", "read_only_limited_user", "observer"})
RESPONDER_ROLES = frozenset({"limited_user", "restricted_access"})
ADMIN_ROLES = frozenset({"admin", "owner"})
# Write scopes a responder's actions fall under.
RESPONDER_WRITES = frozenset({"incidents.write"})
# Operations outside those scopes that responders may call.
RESPONDER_OPERATIONS = frozenset(
    {
        "POST /schedules/{id}/overrides",
        "DELETE /schedules/{id}/overrides/{override_id}",
    }
)
# Write scopes only admins and the owner hold.
ADMIN_WRITES = frozenset({"users.write", "users:contact_methods.write"})


def may_write(role: str, scope: str | None, operation: str = "") -> bool:
    """Return whether a user with `role` may call a write needing `scope`."""
    if role in READ_ONLY_ROLES:
        return False
    if role in ADMIN_ROLES:
        return True
    if scope in ADMIN_WRITES:
        return False
    if role in RESPONDER_ROLES:
        return scope in RESPONDER_WRITES or operation in RESPONDER_OPERATIONS
    return True
