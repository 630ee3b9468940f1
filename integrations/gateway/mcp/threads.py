"""Run the ORM and PagerDuty calls of an async request in worker threads.

At most MCP_THREADS at once per process (each holds a database connection
while it runs); each call gets its thread's own connection, checked and
recycled the way Django does around a request (CONN_MAX_AGE, health checks).
"""

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from django.conf import settings
from django.db import close_old_connections

T = TypeVar("T")
_limiters: dict[int, anyio.CapacityLimiter] = {}


def _limiter() -> anyio.CapacityLimiter:
    # One per event loop (a test process may run several, one at a time).
    key = id(asyncio.get_running_loop())
    limiter = _limiters.get(key)
    if limiter is None:
        limiter = _limiters[key] = anyio.CapacityLimiter(settings.MCP_THREADS)
    return limiter


def _in_thread(function: Callable[..., T], args: tuple[Any, ...]) -> T:
    close_old_connections()
    try:
        return function(*args)
    finally:
        close_old_connections()


async def run_sync(function: Callable[..., T], *args: Any) -> T:
    """Return function(*args), run in a worker thread (contextvars kept)."""
    return await anyio.to_thread.run_sync(
        _in_thread, function, args, limiter=_limiter()
    )
