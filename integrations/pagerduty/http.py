"""Bounded reads of PagerDuty's answers (SECURITY-TESTS T36, T38).

`requests` applies its read timeout to each socket read, so a server
trickling its body a byte at a time never trips it: callers stream the
answer and read it here, under a whole-answer deadline and a size cap.
"""

import time

import requests
import urllib3

CHUNK = 8192


class BodyError(Exception):
    """The answer could not be read whole."""


class BodyTooLarge(BodyError):
    """The answer passed the size cap."""


class BodyTooSlow(BodyError):
    """The answer was still arriving at the deadline."""


def timeout_total(timeout: float | tuple[float, float]) -> float:
    """Return the connect plus read timeout: the longest one answer may take."""
    if isinstance(timeout, tuple | list):
        return float(sum(timeout))
    return 2.0 * timeout


def read_body(response: requests.Response, *, deadline: float, max_bytes: int) -> bytes:
    """Return a streamed response's body, read by `deadline` (monotonic).

    Raise BodyTooLarge past `max_bytes`, BodyTooSlow after the deadline and
    BodyError when the connection breaks off.
    """
    chunks, size = [], 0
    while True:
        try:
            # read1 returns what has arrived; iter_content would wait for a
            # full chunk, however slowly it trickles in.
            chunk = response.raw.read1(CHUNK, decode_content=True)
        except (urllib3.exceptions.HTTPError, OSError):
            raise BodyError("the answer broke off") from None
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLarge(f"the answer is over {max_bytes} bytes")
        if time.monotonic() > deadline:
            raise BodyTooSlow("the answer was still arriving")
        chunks.append(chunk)
    return b"".join(chunks)
