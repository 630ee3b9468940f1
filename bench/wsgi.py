"""WSGI entry point for the benchmark's gunicorn (`bench.wsgi:application`).

`portal.wsgi` defaults to the production profile (HTTPS redirect, secure
cookies), which plain HTTP on loopback cannot use. Every response also names
the worker process in `X-Bench-Worker`, so the refresh storm can show that
both processes served it without an access log slowing the throughput runs.
"""

import os

from django.core.wsgi import get_wsgi_application

from bench.load import WORKER_HEADER

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

django_application = get_wsgi_application()


def application(environ, start_response):
    def start(status, headers, exc_info=None):
        headers.append((WORKER_HEADER, str(os.getpid())))
        return start_response(status, headers, exc_info)

    return django_application(environ, start)
