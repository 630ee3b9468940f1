"""Start, reset and steer a sandbox from Python (tests, benchmarks, command)."""

from dataclasses import dataclass, field

from pagerduty_sandbox.scopes import OPENID
from pagerduty_sandbox.seed import DemoApp, build_state, demo_app_credentials
from pagerduty_sandbox.server import SandboxApp, make_sandbox_server, serve_in_thread
from pagerduty_sandbox.state import Config, Fault, State


@dataclass
class SeedOptions:
    seed: int = 1
    incidents: int = 30
    services: int = 6
    config: dict = field(default_factory=dict)

    def build(self) -> State:
        return build_state(
            seed=self.seed,
            incidents=self.incidents,
            services=self.services,
            config=Config(**self.config),
        )


class RunningSandbox:
    """A sandbox served by a background thread on `host:port` (0 = free port)."""

    def __init__(self, options: SeedOptions | None = None, *, host="127.0.0.1", port=0):
        self.options = options or SeedOptions()
        self.app = SandboxApp(self.options.build())
        self.app.rebuild = self.options.build
        self.server = make_sandbox_server(self.app, host, port)
        self.thread = None

    def start(self) -> "RunningSandbox":
        self.thread = serve_in_thread(self.server)
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        """Replace the whole world with a freshly seeded one."""
        self.app.state = self.options.build()

    # --- Addresses ---

    @property
    def url(self) -> str:
        """Identity host and US REST API."""
        return self.app.base_url

    @property
    def eu_api_url(self) -> str:
        return self.app.eu_api_url

    @property
    def state(self) -> State:
        return self.app.state

    @property
    def demo_app(self) -> DemoApp:
        return demo_app_credentials(self.options.seed)

    # --- Observation ---

    @property
    def request_log(self) -> list[tuple[str, str, int]]:
        with self.state.lock:
            return list(self.state.request_log)

    def count(self, path_prefix: str, method: str | None = None) -> int:
        """Return how many requests hit paths starting with `path_prefix`."""
        return sum(
            1
            for m, path, _ in self.request_log
            if path.startswith(path_prefix) and (method is None or m == method)
        )

    # --- Steering ---

    def issue_token(
        self, user_email: str | None = None, scopes=None, *, client_id=None
    ) -> str:
        """Mint an access token directly, skipping the browser flow.

        With `user_email`, a user token of that user (scopes default to the
        app's); without, an app token for the app's account. The app is the
        demo app unless `client_id` names another.
        """
        state = self.state
        with state.lock:
            app = state.app_by_client_id(client_id or self.demo_app.client_id)
            if app is None:
                raise ValueError("no app with that client_id")
            user = None
            if user_email is not None:
                user = state.user_by_email(user_email)
                if user is None:
                    raise ValueError(f"no sandbox user {user_email}")
            chosen = list(app.scopes if scopes is None else scopes)
            if user is not None and OPENID not in chosen:
                chosen.insert(0, OPENID)
            return state.issue_grant(app=app, user=user, scopes=chosen).access_token

    def issue_api_key(
        self,
        user_email: str | None = None,
        *,
        account: str = "acme",
        read_only: bool = False,
        description: str = "Sandbox test key",
    ) -> str:
        """Create a REST API key and return it.

        With `user_email`, a user key acting as that user; without, a
        general access (account) key of `account`, read-only if asked.
        """
        state = self.state
        with state.lock:
            user = state.user_by_email(user_email) if user_email else None
            if user_email and user is None:
                raise ValueError(f"no sandbox user {user_email}")
            owner = user.account_id if user else None
            if owner is None:
                found = state.account_by_subdomain(account)
                if found is None:
                    raise ValueError(f"no sandbox account {account}")
                owner = found.id
            _, secret = state.issue_api_key(
                account_id=owner,
                kind="user" if user else "account",
                description=description,
                user=user,
                read_only=read_only,
            )
            return secret

    def add_fault(self, kind: str, path_prefix: str = "/", share=1.0, delay=10.0):
        """Make a share of requests under `path_prefix` fail ("500", "429",
        "timeout")."""
        fault = Fault(kind=kind, path_prefix=path_prefix, share=share, delay=delay)
        with self.state.lock:
            self.state.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self.state.lock:
            self.state.faults.clear()

    def set_latency(self, milliseconds: int) -> None:
        self.state.config.latency_ms = milliseconds

    def configure(self, **settings) -> None:
        """Change Config fields (access_ttl, refresh_ttl, rate_limit, …)."""
        for name, value in settings.items():
            if not hasattr(self.state.config, name):
                raise AttributeError(f"unknown sandbox setting {name}")
            setattr(self.state.config, name, value)

    def advance(self, seconds: float) -> None:
        """Move the sandbox clock forward (expire codes and tokens)."""
        with self.state.lock:
            self.state.advance(seconds)
