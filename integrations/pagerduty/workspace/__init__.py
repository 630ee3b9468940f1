"""A tenant's PagerDuty workspace: pages that read and manage its account.

`context` holds the per-request client and the per-connection read cache,
`entities` the dataclasses built from PagerDuty's JSON, `selectors` the
reads, `services` the writes (each one invalidates the connection's cache).
"""
