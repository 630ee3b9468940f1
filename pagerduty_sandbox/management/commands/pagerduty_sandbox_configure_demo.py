"""Write the sandbox's demo app into an environment's PagerDuty config."""

import time

import requests
from django.core.management.base import BaseCommand, CommandError

from integrations.models import Environment, OAuthClient, Region
from integrations.pagerduty.scopes import ALL_SCOPES, canonical
from integrations.services.oauth_clients import oauth_client_save
from pagerduty_sandbox.identity import ISSUER_PATH
from pagerduty_sandbox.seed import demo_app_credentials

DEMO_SUBDOMAIN = "acme"


class Command(BaseCommand):
    help = (
        "Configure an environment (default: Development) with the sandbox's "
        "pre-registered 'Portal demo' app: region us, subdomain acme, all 15 "
        "scopes. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--environment", default="development")
        parser.add_argument(
            "--sandbox-url",
            default="",
            help="wait for this running sandbox and prove the credentials "
            "with a client_credentials grant",
        )
        parser.add_argument("--wait", type=float, default=15.0, help="seconds")

    def handle(self, *args, **options):
        demo = demo_app_credentials(options["seed"])
        if options["sandbox_url"]:
            self._check(options["sandbox_url"].rstrip("/"), demo, options["wait"])
        try:
            environment = Environment.objects.get(slug=options["environment"])
        except Environment.DoesNotExist:
            raise CommandError(
                f"No environment {options['environment']!r}; run migrate first."
            ) from None
        client = OAuthClient.objects.filter(
            environment=environment, tenant__isnull=True
        ).first() or OAuthClient(environment=environment)
        wanted = {
            "client_id": demo.client_id,
            "scopes": canonical(ALL_SCOPES),
            "region": Region.US,
            "subdomain": DEMO_SUBDOMAIN,
            "enabled": True,
        }
        changed = [
            name for name, value in wanted.items() if getattr(client, name) != value
        ]
        for name, value in wanted.items():
            setattr(client, name, value)
        creating = client.pk is None
        new_secret = ""
        if creating or client.client_secret != demo.client_secret:
            new_secret = demo.client_secret
        if changed or new_secret:
            oauth_client_save(
                client=client, actor=None, new_secret=new_secret, changed_fields=changed
            )
        verb = "Configured" if changed or new_secret else "Already configured"
        self.stdout.write(
            f"{verb} {environment.name}'s PagerDuty app with the sandbox demo app "
            f"({demo.client_id}, acme, US, 15 scopes)."
        )

    def _check(self, url: str, demo, wait: float) -> None:
        deadline = time.monotonic() + wait
        discovery = f"{url}{ISSUER_PATH}/.well-known/openid-configuration"
        while True:
            try:
                requests.get(discovery, timeout=2).raise_for_status()
                break
            except requests.RequestException:
                if time.monotonic() >= deadline:
                    raise CommandError(
                        f"The PagerDuty sandbox did not answer at {url} within "
                        f"{wait:g} s."
                    ) from None
                time.sleep(0.2)
        response = requests.post(
            f"{url}/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": demo.client_id,
                "client_secret": demo.client_secret,
                "scope": f"as_account-us.{DEMO_SUBDOMAIN} incidents.read",
            },
            timeout=5,
        )
        if response.status_code != 200:
            raise CommandError(
                f"The sandbox at {url} refused the demo app's credentials "
                f"({response.status_code}); was it started with the same --seed?"
            )
