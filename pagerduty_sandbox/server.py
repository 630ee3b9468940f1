"""The WSGI application, its routing, and a threaded server to run it.

Routes: identity and sign-in pages at PagerDuty's paths, the US REST API at
the root, the EU REST API under `/eu`, CSS under `/static/`, and the
control endpoints under `/_sandbox/` (unless disabled).
"""

import logging
import mimetypes
import secrets
import threading
import time
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import (
    ServerHandler,
    WSGIRequestHandler,
    WSGIServer,
    make_server,
)

from django.template import Context, Engine

from pagerduty_sandbox import (
    api,
    api_keys,
    console,
    control,
    developer,
    identity,
    web,
)
from pagerduty_sandbox.http import (
    COOKIE_NAME,
    BadRequest,
    CookieSigner,
    Request,
    Response,
    session_cookie,
)
from pagerduty_sandbox.state import State

logger = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
EU_PREFIX = "/eu"


class Page:
    """The browser side of a request: signed-cookie session and CSRF."""

    def __init__(self, app: "SandboxApp", request: Request):
        self.app = app
        self.request = request
        raw = request.cookies.get(COOKIE_NAME, "")
        session = app.signer.loads(raw) if raw else None
        self.changed = session is None or "csrf" not in session
        self.session = session if not self.changed else {}
        self.session.setdefault("csrf", secrets.token_urlsafe(24))

    @property
    def user(self):
        user_id = self.session.get("uid")
        user = self.app.state.users.get(user_id) if user_id else None
        # A reset state (tests, /_sandbox/reset) invalidates old sign-ins.
        if user and self.session.get("gen") != self.app.state.generation:
            return None
        return user

    @property
    def csrf(self) -> str:
        return self.session["csrf"]

    def csrf_ok(self, form: dict) -> bool:
        sent = (form.get("csrf") or [""])[0]
        return bool(sent) and secrets.compare_digest(sent, self.csrf)

    def sign_in(self, user) -> None:
        self.session = {
            "uid": user.id,
            "gen": self.app.state.generation,
            "csrf": secrets.token_urlsafe(24),
        }
        self.changed = True

    def sign_out(self) -> None:
        self.session = {"csrf": secrets.token_urlsafe(24)}
        self.changed = True

    def finish(self, response: Response) -> Response:
        if self.changed:
            response.headers.append(session_cookie(self.app.signer.dumps(self.session)))
        return response

    def render(self, template: str, context: dict, status: int = 200) -> Response:
        context = {
            "user": self.user,
            "csrf": self.csrf,
            "base_url": self.app.base_url,
            **context,
        }
        if context["user"] is not None:
            context["account"] = self.app.state.accounts[context["user"].account_id]
        html = self.app.engine.get_template(template).render(Context(context))
        return self.finish(Response.html(html, status))

    def redirect(self, location: str) -> Response:
        return self.finish(Response.redirect(location))


class SandboxApp:
    """The WSGI callable; swap `state` to reset the world."""

    def __init__(self, state: State, *, base_url: str = "http://127.0.0.1:8765"):
        self.state = state
        self.base_url = base_url.rstrip("/")
        self.signer = CookieSigner(secrets.token_bytes(32))
        self.engine = Engine(dirs=[str(HERE / "templates")], autoescape=True)
        # Set by RunningSandbox: returns a freshly seeded State.
        self.rebuild = None

    @property
    def eu_api_url(self) -> str:
        return f"{self.base_url}{EU_PREFIX}"

    def api_url(self, region: str) -> str:
        return self.eu_api_url if region == "eu" else self.base_url

    def __call__(self, environ, start_response):
        try:
            request = Request.from_environ(environ)
        except BadRequest as exc:
            response = Response.json(
                {
                    "error": {
                        "message": "Invalid Input Provided",
                        "code": 2001,
                        "errors": [str(exc)],
                    }
                },
                status=400,
            )
            start_response(response.status_line, response.headers)
            return [response.body]
        try:
            response = self.handle(request)
        except Exception:
            # A sandbox bug must look like PagerDuty's 500, not kill the thread.
            logger.exception(
                "PagerDuty sandbox failed on %s %s", request.method, request.path
            )
            response = api.error_response(500, "An internal error has occurred.", 2000)
        headers = [*response.headers, ("Content-Length", str(len(response.body)))]
        start_response(response.status_line, headers)
        return [response.body]

    def handle(self, request: Request) -> Response:
        path = request.path
        # The request belongs to the world it arrived in. A reset (each
        # test's fixture, /_sandbox/reset) while latency or a timeout fault
        # holds it must not let it act on the new world or land in its log.
        state = self.state
        if path.startswith("/_sandbox/") or path == "/_sandbox":
            response = control.dispatch(self, request)
        elif path.startswith("/static/"):
            response = self.static(path)
        else:
            response = self.faulted(request, state)
            if response is None and self.state is not state:
                response = api.error_response(
                    503, "The sandbox was reset while the request waited.", 2000
                )
            response = response or self.route(request)
        with state.lock:
            state.request_log.append((request.method, path, response.status))
        return response

    def faulted(self, request: Request, state: State) -> Response | None:
        """Apply configured latency and faults; return the fault's response."""
        with state.lock:
            latency = state.config.latency_ms
            fault = next(
                (
                    f
                    for f in state.faults
                    if request.path.startswith(f.path_prefix)
                    and state.fault_rng.random() < f.share
                ),
                None,
            )
        if latency:
            time.sleep(latency / 1000)
        if fault is None:
            return None
        if fault.kind == "timeout":
            time.sleep(fault.delay)
            return api.error_response(504, "The request took too long to process", 2016)
        if fault.kind == "429":
            return api.error_response(429, "Rate Limit Exceeded", 2020)
        return api.error_response(
            500,
            "An internal error has occurred. PagerDuty team has been notified.",
            2000,
        )

    def route(self, request: Request) -> Response:
        path = request.path
        if path == EU_PREFIX or path.startswith(EU_PREFIX + "/"):
            return api.dispatch(self, request, region="eu", path=path[len(EU_PREFIX) :])
        if api.is_api_path(path):
            return api.dispatch(self, request, region="us", path=path)
        page = Page(self, request)
        with self.state.lock:
            handler = (
                identity.ROUTES.get(path)
                or developer.match(path)
                or console.match(path)
                or api_keys.match(path)
                or web.match(path)
            )
            if handler is None and (
                "authorization" in request.headers
                or "json" in request.headers.get("accept", "")
            ):
                # An API client calling an operation the sandbox lacks.
                return api.error_response(404, "Not Found", 2100)
            if handler is None:
                return page.render(
                    "pagerduty_sandbox/message.html",
                    {
                        "title": "Page not found",
                        "message": f"The sandbox has no page at {path}.",
                    },
                    status=404,
                )
            return handler(self, page, request)

    def static(self, path: str) -> Response:
        name = path[len("/static/") :]
        target = (STATIC_DIR / name).resolve()
        if STATIC_DIR not in target.parents or not target.is_file():
            return Response(status=404, body=b"Not found")
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return Response(
            body=target.read_bytes(),
            headers=[("Content-Type", kind), ("Cache-Control", "max-age=300")],
        )


class _Http11Handler(ServerHandler):
    http_version = "1.1"
    framed = False  # whether the answer carried a Content-Length

    def send_headers(self):
        self.framed = "Content-Length" in self.headers
        super().send_headers()


class _QuietHandler(WSGIRequestHandler):
    """Answer HTTP/1.1 and keep the connection open, as PagerDuty does.

    wsgiref answers one request per connection; here a connection serves
    requests until the client closes it, asks to, or idles for a minute.
    """

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 60

    def handle(self):
        self.close_connection = True
        self._handle_one()
        while not self.close_connection:
            self._handle_one()

    def _handle_one(self):
        try:
            self.raw_requestline = self.rfile.readline(65537)
        except TimeoutError:
            self.close_connection = True
            return
        if not self.raw_requestline:
            self.close_connection = True
            return
        if len(self.raw_requestline) > 65536:
            self.requestline = self.request_version = self.command = ""
            self.send_error(414)
            self.close_connection = True
            return
        if not self.parse_request():  # an error was sent
            self.close_connection = True
            return
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True  # only Content-Length bodies are read
        body = _Body(self.rfile, self.headers.get("Content-Length"))
        handler = _Http11Handler(
            body, self.wfile, self.get_stderr(), self.get_environ(), multithread=False
        )
        handler.request_handler = self  # backpointer for logging
        handler.run(self.server.get_app())
        if not body.drain() or not handler.framed:
            self.close_connection = True  # the next request cannot be framed

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        logger.debug("%s %s", self.address_string(), format % args)


class _Body:
    """A request body of Content-Length bytes, so the next request on the
    connection starts where this one ends."""

    MAX_DRAIN = 1024 * 1024

    def __init__(self, rfile, length):
        self.rfile = rfile
        try:
            self.left = max(int(length or 0), 0)
        except ValueError:
            self.left = 0

    def read(self, size=-1):
        if size is None or size < 0 or size > self.left:
            size = self.left
        data = self.rfile.read(size) if size else b""
        self.left -= len(data)
        return data

    def readline(self, size=-1):
        if size is None or size < 0 or size > self.left:
            size = self.left
        data = self.rfile.readline(size) if size else b""
        self.left -= len(data)
        return data

    def readlines(self, hint=-1):
        return list(iter(self.readline, b""))

    def __iter__(self):
        return iter(self.readline, b"")

    def drain(self) -> bool:
        """Skip what the app left unread; return whether that was possible."""
        if self.left > self.MAX_DRAIN:
            return False
        while self.left:
            if not self.read(self.left):
                return False
        return True


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    # Many parallel clients (the incident export) may connect at once;
    # socketserver's default backlog of 5 overflowed under load and stalled
    # connects for seconds.
    request_queue_size = 128


def make_sandbox_server(app: SandboxApp, host: str, port: int) -> WSGIServer:
    """Bind a threaded server (port 0 picks a free one) and set app.base_url."""
    server = make_server(
        host, port, app, server_class=ThreadingWSGIServer, handler_class=_QuietHandler
    )
    app.base_url = f"http://{host}:{server.server_port}"
    return server


def serve_in_thread(server: WSGIServer) -> threading.Thread:
    thread = threading.Thread(
        target=server.serve_forever, name="pagerduty-sandbox", daemon=True
    )
    thread.start()
    return thread
