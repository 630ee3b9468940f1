"""A tenant's PagerDuty workspace: one operation layer, two front doors.

`access.workspace_open` opens a `context.Workspace` (who, which tenant,
which connection, its cached reads); `selectors` (reads) and `services`
(writes) are the operations, each declared once with its PagerDuty scope
(`operations.py`) and checking its own arguments (`inputs.py`); `entities`
are what they return. The pages (`views/`) and the MCP gateway's tools
call the same operations.
"""
