"""Write the sandbox's demo apps into the portal's PagerDuty configuration.

Development gets the Scoped *Portal demo* app (acme), allows tenants' own
apps and gives Globex its own *Globex portal* app (globex, EU); Production
gets the Classic *Portal demo (Classic)* app, which Initech (or any other
account) can connect through.
"""

import time

import requests
from django.core.management.base import BaseCommand, CommandError

from integrations.models import AppType, Environment, OAuthClient, Region, Tenant
from integrations.pagerduty.scopes import ALL_SCOPES, canonical
from integrations.services.oauth_clients import oauth_client_save
from integrations.services.tenant_apps import environment_set_tenant_apps
from pagerduty_sandbox.identity import ISSUER_PATH
from pagerduty_sandbox.seed import (
    classic_app_credentials,
    demo_app_credentials,
    tenant_app_credentials,
)

DEMO_SUBDOMAIN = "acme"


class Command(BaseCommand):
    help = (
        "Configure an environment (default: Development) with the sandbox's "
        "pre-registered 'Portal demo' app: region us, subdomain acme, all 15 "
        "scopes; allow tenants' own apps there and give Globex its own "
        "'Globex portal' app (eu, globex); configure Production with the "
        "Classic 'Portal demo (Classic)' app. Safe to run again."
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
        verb = self._apply(
            client,
            demo,
            {"region": Region.US, "subdomain": DEMO_SUBDOMAIN},
        )
        self.stdout.write(
            f"{verb} {environment.name}'s PagerDuty app with the sandbox demo app "
            f"({demo.client_id}, acme, US, 15 scopes)."
        )
        self._globex(options["seed"])
        if environment.slug != "production":
            self._production(options["seed"])

    def _apply(self, client: OAuthClient, app, wanted: dict) -> str:
        """Give `client` the sandbox app's credentials; return what happened."""
        wanted = {
            "app_type": AppType.SCOPED,
            "client_id": app.client_id,
            "scopes": canonical(ALL_SCOPES),
            "enabled": True,
            **wanted,
        }
        changed = [
            name for name, value in wanted.items() if getattr(client, name) != value
        ]
        for name, value in wanted.items():
            setattr(client, name, value)
        creating = client.pk is None
        new_secret = ""
        if creating or client.client_secret != app.client_secret:
            new_secret = app.client_secret
        if changed or new_secret:
            oauth_client_save(
                client=client, actor=None, new_secret=new_secret, changed_fields=changed
            )
            return "Configured"
        return "Already configured"

    def _globex(self, seed: int) -> None:
        tenant = (
            Tenant.objects.select_related("environment")
            .filter(slug="globex", environment__slug="development")
            .first()
        )
        if tenant is None:
            self.stdout.write("No Globex tenant in Development (run seed_demo).")
            return
        environment_set_tenant_apps(
            environment=tenant.environment,
            allowed=True,
            scopes=list(ALL_SCOPES),
            actor=None,
        )
        app = tenant_app_credentials(seed)
        client = OAuthClient.objects.filter(tenant=tenant).first() or OAuthClient(
            environment=tenant.environment, tenant=tenant
        )
        verb = self._apply(client, app, {"region": Region.EU, "subdomain": "globex"})
        self.stdout.write(
            f"{verb} Globex's own PagerDuty app ({app.client_id}, globex, EU)."
        )

    def _production(self, seed: int) -> None:
        environment = Environment.objects.filter(slug="production").first()
        if environment is None:
            return
        app = classic_app_credentials(seed)
        client = OAuthClient.objects.filter(
            environment=environment, tenant__isnull=True
        ).first() or OAuthClient(environment=environment)
        verb = self._apply(
            client,
            app,
            {
                "app_type": AppType.CLASSIC,
                "scopes": "write",
                "region": Region.US,
                "subdomain": DEMO_SUBDOMAIN,
            },
        )
        self.stdout.write(
            f"{verb} {environment.name}'s PagerDuty app with the sandbox's Classic "
            f"app ({app.client_id}, Read/Write, any account)."
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
