"""Print the MCP gateway's tool catalogue (the README's table)."""

from django.core.management.base import BaseCommand

from integrations.gateway.tools.catalogue import tool_counts, tool_table_markdown


class Command(BaseCommand):
    help = "Print every MCP tool with its PagerDuty scope, kind and annotations."

    def handle(self, *args, **options):
        self.stdout.write(tool_table_markdown())
        counts = tool_counts()
        self.stdout.write(
            f"\n{counts['tools']} tools: {counts['compatible']} with pagerduty-mcp "
            f"1.1.0's name and input schema, {counts['own']} of the portal's own; "
            f"{counts['write']} write."
        )
