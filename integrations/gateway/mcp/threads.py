"""Run the ORM and PagerDuty calls of an async request in worker threads.

Each call gets the thread's own database connection, checked and recycled
the way Django does around a request (CONN_MAX_AGE, health checks).
"""

from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread
from django.db import close_old_connections

T = TypeVar("T")


def _in_thread(function: Callable[..., T], args: tuple[Any, ...]) -> T:
    close_old_connections()
    try:
        return function(*args)
    finally:
        close_old_connections()


async def run_sync(function: Callable[..., T], *args: Any) -> T:
    """Return function(*args), run in a worker thread (contextvars kept)."""
    return await anyio.to_thread.run_sync(_in_thread, function, args)
