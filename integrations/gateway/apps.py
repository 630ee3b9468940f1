from django.apps import AppConfig


class GatewayConfig(AppConfig):
    name = "integrations.gateway"
    label = "gateway"
    verbose_name = "MCP gateway"

    def ready(self):
        from integrations.gateway import checks  # noqa: F401 - registers checks
