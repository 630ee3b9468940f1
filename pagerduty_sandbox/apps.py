from django.apps import AppConfig


class PagerDutySandboxConfig(AppConfig):
    name = "pagerduty_sandbox"
    verbose_name = "PagerDuty sandbox"
