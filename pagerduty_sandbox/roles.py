"""What a user's base role lets them change (PagerDuty "User Roles").

Stakeholders and observers read but never write. Responders (API roles
`limited_user`, `restricted_access`) work incidents but do not change the
account's setup. Managers (API role `user`) also change services,
schedules, escalation policies, teams and webhooks; Global Admins and the
Account Owner also manage users. User API keys act with these rights; OAuth
user tokens of read-only roles lose their write scopes at the grant
(identity.granted_scopes, NOTES §8.5).
"""

READ_ONLY_ROLES = frozenset({"read_only_user", "read_only_limited_user", "observer"})
RESPONDER_ROLES = frozenset({"limited_user", "restricted_access"})
ADMIN_ROLES = frozenset({"admin", "owner"})
# Write scopes a responder's actions fall under.
RESPONDER_WRITES = frozenset({"incidents.write"})
# Write scopes only admins and the owner hold.
ADMIN_WRITES = frozenset({"users.write", "users:contact_methods.write"})


def may_write(role: str, scope: str | None) -> bool:
    """Return whether a user with `role` may call a write needing `scope`."""
    if role in READ_ONLY_ROLES:
        return False
    if role in ADMIN_ROLES:
        return True
    if scope in ADMIN_WRITES:
        return False
    if role in RESPONDER_ROLES:
        return scope in RESPONDER_WRITES
    return True
