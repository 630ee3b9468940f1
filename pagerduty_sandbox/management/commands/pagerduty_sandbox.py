"""Serve the PagerDuty sandbox until interrupted."""

from django.core.management.base import BaseCommand, CommandError

from pagerduty_sandbox.runner import RunningSandbox, SeedOptions
from pagerduty_sandbox.seed import PASSWORD


def _non_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Run the local PagerDuty stand-in: identity at PagerDuty's paths, the "
        "US REST API at the root and the EU REST API under /eu."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=_non_negative, default=8765)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--incidents", type=_non_negative, default=30, help="acme's incidents"
        )
        parser.add_argument(
            "--services", type=_non_negative, default=6, help="acme's services"
        )
        parser.add_argument("--latency-ms", type=_non_negative, default=0)
        parser.add_argument(
            "--rate-limit", type=_non_negative, default=960, help="requests/minute"
        )
        parser.add_argument(
            "--no-control",
            action="store_true",
            help="disable the /_sandbox/ control endpoints",
        )

    def handle(self, *args, **options):
        if options["services"] < 1:
            raise CommandError("--services must be at least 1")
        seed = SeedOptions(
            seed=options["seed"],
            incidents=options["incidents"],
            services=options["services"],
            config={
                "latency_ms": options["latency_ms"],
                "rate_limit": options["rate_limit"],
                "control_enabled": not options["no_control"],
            },
        )
        try:
            sandbox = RunningSandbox(seed, host=options["host"], port=options["port"])
        except OSError as exc:
            raise CommandError(
                f"Cannot listen on {options['host']}:{options['port']}: {exc}"
            ) from exc
        self._banner(sandbox)
        try:
            sandbox.server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            sandbox.server.server_close()

    def _banner(self, sandbox: RunningSandbox) -> None:
        write = self.stdout.write
        demo = sandbox.demo_app
        write(f"PagerDuty sandbox on {sandbox.url}")
        write(f"  identity + US REST API  {sandbox.url}")
        write(f"  EU REST API             {sandbox.eu_api_url}")
        write(f"  App Registration        {sandbox.url}/developer/applications")
        write(f"Sign-ins (password '{PASSWORD}'):")
        state = sandbox.state
        for user in sorted(state.users.values(), key=lambda u: u.email):
            account = state.accounts[user.account_id]
            write(
                f"  {user.email:24} {user.role:15} "
                f"{account.subdomain} ({account.region.upper()})"
            )
        write(f"Demo app 'Portal demo' on acme: client ID {demo.client_id}")
        if not state.config.control_enabled:
            write("Control endpoints (/_sandbox/) are disabled.")
        self.stdout.flush()
