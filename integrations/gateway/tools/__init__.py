"""The MCP tools and the framework around them.

Adding a tool (the rest of pagerduty-mcp's catalogue slots in this way):

1. In a module per resource (`incidents.py`, `oncalls.py`, …), decorate a
   thin handler `def name(ctx, args) -> dict` with `registry.register(...)`:
   name, title, description, input schema (`pagerduty_mcp_schema(name)` for
   a PagerDuty-compatible tool, so name and schema stay theirs), `access`
   (`mcp:read` / `mcp:write`), the PagerDuty `operations` it calls ("GET
   /incidents/{id}", whose scopes come from openapi_scopes.json), the three
   annotation hints and any free-text argument names (masked in the audit).
2. The handler validates what the schema cannot (IDs that become URL
   paths), calls one workspace selector or service with `ctx.ws`, and
   returns JSON-able data capped at `ctx.max_results`; it raises ToolError
   for what the agent should read. Authorization, visibility, policy,
   audit and PagerDuty error mapping happen in `runner.py`, never here.
3. Import the module in `registry._load`.
"""
