"""Writes that span rows, call PagerDuty or record an audit event.

One module per concern; import from the module, e.g.
`from integrations.services.oauth_clients import oauth_client_save`.
"""
