"""The permission scopes PagerDuty knows, from its OpenAPI file.

The sandbox takes them from `integrations/pagerduty/openapi_scopes.json`
(every operation's `x-pd-requires-scope`, derived by
`scripts/derive_openapi_scopes.py`), never from the portal's own scope
table: a stand-in that shared the portal's beliefs could not catch a wrong
one. A scope is `<resource>.read` or `<resource>.write`; the App
Registration page shows one row per resource, as PagerDuty's does.
"""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SCOPES_FILE = (
    Path(__file__).resolve().parents[1]
    / "integrations"
    / "pagerduty"
    / "openapi_scopes.json"
)
# Attached to every user token by PagerDuty; never listed per operation.
OPENID = "openid"
# Classic User OAuth's only scopes, case-sensitive (DD 06-OAuth-Functionality
# "Troubleshooting"): `read` reads and `write` reads and writes everything
# the authorizing user may.
CLASSIC_READ = "read"
CLASSIC_WRITE = "write"
CLASSIC_SCOPES = (CLASSIC_READ, CLASSIC_WRITE)
# Words the row labels spell in capitals ("IP Allow Lists", "SRE Agent").
ACRONYMS = {"ip": "IP", "sre": "SRE", "oauth": "OAuth"}


@dataclass(frozen=True)
class Resource:
    name: str  # e.g. "users:contact_methods"
    label: str  # e.g. "Users: Contact Methods"
    read: str | None
    write: str | None


@cache
def spec_data() -> dict:
    """Return the derived scope map (scripts/derive_openapi_scopes.py)."""
    return json.loads(SCOPES_FILE.read_text())


def _label(resource: str) -> str:
    parts = []
    for part in resource.split(":"):
        words = part.split("_")
        parts.append(" ".join(ACRONYMS.get(w, w.capitalize()) for w in words))
    return ": ".join(parts)


@cache
def resources() -> tuple[Resource, ...]:
    """Return one row per resource, alphabetically, with its read/write scopes."""
    grouped: dict[str, dict[str, str]] = {}
    for scope in set(spec_data()["scopes"].values()):
        resource, _, access = scope.rpartition(".")
        grouped.setdefault(resource, {})[access] = scope
    return tuple(
        Resource(
            name=name,
            label=_label(name),
            read=grouped[name].get("read"),
            write=grouped[name].get("write"),
        )
        for name in sorted(grouped)
    )


@cache
def known_scopes() -> tuple[str, ...]:
    """Return every scope PagerDuty knows, in the registration table's order."""
    ordered = []
    for resource in resources():
        ordered += [s for s in (resource.read, resource.write) if s]
    return tuple(ordered)


def canonical(scopes) -> str:
    """Return the known scopes among `scopes`, in table order, space-separated."""
    chosen = set(scopes)
    return " ".join(scope for scope in known_scopes() if scope in chosen)


def require_known(scopes) -> tuple[str, ...]:
    """Return `scopes` as a tuple; raise ValueError naming one PagerDuty lacks."""
    unknown = [s for s in scopes if s not in known_scopes()]
    if unknown:
        raise ValueError(f"PagerDuty has no scope {unknown[0]!r}")
    return tuple(scopes)


def allows(granted, scope: str) -> bool:
    """Return whether a token's scopes allow an operation's scope.

    Classic `write` allows every operation, `read` every `*.read` one.
    """
    if scope in granted or CLASSIC_WRITE in granted:
        return True
    return CLASSIC_READ in granted and scope.endswith(".read")
