"""Derive integrations/pagerduty/openapi_scopes.json from PagerDuty's OpenAPI.

Maps "METHOD /path/{template}" to the operation's `x-pd-requires-scope` and
lists the operations whose `From` header is required, so the sandbox
enforces scopes from the spec rather than from a hand-kept table.

    python scripts/derive_openapi_scopes.py [SPEC] [--check]

SPEC defaults to ../shared/pagerduty/openapiv3.json beside the checkout.
`--check` exits 1 when the committed file differs from a fresh derivation.
"""

import argparse
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPEC = ROOT.parent / "shared" / "pagerduty" / "openapiv3.json"
OUTPUT = ROOT / "integrations" / "pagerduty" / "openapi_scopes.json"
SPEC_REPOSITORY = "PagerDuty/api-schema"
SPEC_PATH = "reference/REST/openapiv3.json"
SPEC_COMMIT = "91a06fb3c64b0ab2b2bd6c485d12b327dfb55c18"
METHODS = ("get", "put", "post", "patch", "delete")
FROM_REQUIRED = "#/components/parameters/from_header"


def derive(spec_bytes: bytes) -> dict:
    """Return the scope map for a spec file's bytes."""
    spec = json.loads(spec_bytes)
    scopes: dict[str, str] = {}
    unscoped: list[str] = []
    from_required: list[str] = []
    for path, item in sorted(spec["paths"].items()):
        shared = item.get("parameters", [])
        for method in METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            key = f"{method.upper()} {path}"
            scope = operation.get("x-pd-requires-scope")
            if scope:
                scopes[key] = scope
            else:
                unscoped.append(key)
            params = [*shared, *operation.get("parameters", [])]
            if any(p.get("$ref") == FROM_REQUIRED for p in params):
                from_required.append(key)
    return {
        "source": {
            "repository": SPEC_REPOSITORY,
            "path": SPEC_PATH,
            "commit": SPEC_COMMIT,
            "sha256": hashlib.sha256(spec_bytes).hexdigest(),
        },
        "scopes": scopes,
        "unscoped": unscoped,
        "from_header_required": from_required,
    }


def render(data: dict) -> str:
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", nargs="?", type=Path, default=DEFAULT_SPEC)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    if not args.spec.is_file():
        print(f"{args.spec} not found", file=sys.stderr)
        return 2
    text = render(derive(args.spec.read_bytes()))
    if args.check:
        if not OUTPUT.is_file() or OUTPUT.read_text() != text:
            print(f"{OUTPUT} is out of date; run without --check", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text)
    data = json.loads(text)
    print(f"Wrote {len(data['scopes'])} scoped operations to {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
