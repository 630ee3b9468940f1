"""Placeholder until the page-cost section lands: one smoke figure."""

from bench.common import connect_tenant, expect_status, time_runs


def run(ctx):
    tenant = connect_tenant(ctx.sandbox)
    client = tenant.client()
    url = tenant.path("incident_list")

    def get():
        expect_status(client.get(url))

    ctx.add("incident list (smoke)", time_runs(get, ctx.repeat), unit="s")
