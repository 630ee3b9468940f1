"""A local stand-in for PagerDuty's identity service and REST API v2.

A plain WSGI application (`server.SandboxApp`) with its state in memory
(`state.State`), served on its own port. Run it with
`python manage.py pagerduty_sandbox --port 8765`; tests use the
`pagerduty_sandbox` fixture from `tests/sandbox_fixtures.py`.

Behaviour follows `../shared/pagerduty/NOTES.md` and the shapes of
PagerDuty's OpenAPI file; the README's "PagerDuty sandbox" section lists
what exists.
"""
