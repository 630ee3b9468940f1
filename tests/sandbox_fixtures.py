"""The PagerDuty sandbox as pytest fixtures (registered in tests/conftest.py).

`pagerduty_sandbox` (function scope) yields a `RunningSandbox` with fresh
seeded state: one server is started per session on a free port and its
state is replaced before each test, so using it costs ~10 ms. It offers:

- `.url` (identity host and US REST API), `.eu_api_url` (EU REST API);
- `.state` (the live `pagerduty_sandbox.state.State`; hold `.state.lock`
  when reading it while requests may run);
- `.demo_app`: `client_id`, `client_secret`, `redirect_uris`, `scopes` of
  acme's pre-registered "Portal demo" app;
- `.request_log` (list of (method, path, status)) and
  `.count(path_prefix, method=None)`;
- `.issue_token(user_email=None, scopes=None, client_id=None)` mints an
  access token without the browser flow (no email: an app token; default
  app: the demo app);
- `.issue_api_key(user_email=None, account="acme", read_only=False)`
  creates a REST API key (`Authorization: Token token=<key>`): a user key
  acting as that user, or without an email a general access key;
- `.add_fault(kind, path_prefix="/", share=1.0, delay=10.0)` with kind
  "500" | "429" | "timeout", `.clear_faults()`, `.set_latency(ms)`;
- `.configure(access_ttl=…, refresh_ttl=…, code_ttl=…, rate_limit=…,
  webhook_retry_delays=…)` and `.advance(seconds)` to move the sandbox clock
  (expire codes and tokens);
- `.state.webhook_deliveries`: every webhook sent (id, event, attempts,
  outcome). Webhook retries here are 50 ms apart;
- `.reset()` (re-seed mid-test) and `.options.seed`.

`sandbox_settings` points `PAGERDUTY_IDENTITY_URL`, `PAGERDUTY_API_URL` and
`PAGERDUTY_EU_API_URL` at it and returns the sandbox.
"""

import pytest

from pagerduty_sandbox.runner import RunningSandbox, SeedOptions


@pytest.fixture(scope="session")
def _sandbox_server():
    # Webhook retries every 50 ms instead of seconds, so no test waits on
    # them and none keeps delivering after it ends.
    options = SeedOptions(config={"webhook_retry_delays": (0.05, 0.05)})
    sandbox = RunningSandbox(options).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def pagerduty_sandbox(_sandbox_server):
    _sandbox_server.reset()
    return _sandbox_server


@pytest.fixture
def sandbox_settings(pagerduty_sandbox, settings):
    settings.PAGERDUTY_IDENTITY_URL = pagerduty_sandbox.url
    settings.PAGERDUTY_API_URL = pagerduty_sandbox.url
    settings.PAGERDUTY_EU_API_URL = pagerduty_sandbox.eu_api_url
    return pagerduty_sandbox
