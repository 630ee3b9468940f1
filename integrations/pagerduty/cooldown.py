"""One connection's 429 state, shared by its clients in every process (T34).

After a 429 the connection is cooled down until PagerDuty's reset. Once
it passes, one caller per round sends a probe; the others wait for its
answer instead of all hitting PagerDuty again. A probe answered 429 opens
the next round, and after MAX_ROUNDS only the reset ends the cooldown, so
any number of concurrent callers cost at most MAX_ROUNDS extra calls.
"""

import hashlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import cache

MAX_ROUNDS = 3
# Without rate-limit headers: 1 s, 2 s, 4 s, then this cap.
BACKOFF_CAP = 8
# A reset past this is not believed: a broken upstream must not lock a
# connection for hours.
MAX_COOLDOWN = 300
# How long after the reset a probe may still be on its way (connect plus
# read timeout); until then the others wait for its answer.
PROBE_GRACE = 15


@dataclass(frozen=True)
class Cooldown:
    """A 429 round: no calls but the round's probe until `until` (epoch s)."""

    episode: str
    round: int
    until: float

    @property
    def exhausted(self) -> bool:
        return self.round > MAX_ROUNDS


def token_key(api_url: str, token: str) -> str:
    """Return a gate key for a bare client: its host and a hash of its token."""
    digest = hashlib.sha256(f"{api_url} {token}".encode()).hexdigest()
    return f"token:{digest[:32]}"


def no_header_wait(round_: int) -> float:
    return float(min(2 ** (round_ - 1), BACKOFF_CAP))


class RateLimitGate:
    """Read and write the cooldown of one connection in Django's cache."""

    def __init__(self, key: str, *, clock: Callable[[], float] = time.time):
        self.key = f"pd-429:{key}"
        self.clock = clock

    def current(self) -> Cooldown | None:
        """Return the cooldown in force, if any."""
        cooldown = cache.get(self.key)
        return cooldown if isinstance(cooldown, Cooldown) else None

    def take_probe(self, cooldown: Cooldown) -> bool:
        """Return whether this caller may send the round's one probe."""
        if cooldown.exhausted:
            return False
        key = f"{self.key}:probe:{cooldown.episode}:{cooldown.round}"
        return cache.add(key, 1, timeout=self._ttl(cooldown))

    def limited(self, *, wait: float | None, probed: Cooldown | None) -> Cooldown:
        """Record a 429; return the cooldown now in force.

        `wait` is what PagerDuty's headers asked for (None without them);
        `probed` the round whose probe this 429 answered.
        """
        now = self.clock()
        current = self.current()
        if (
            current is not None
            and probed is not None
            and (current.episode, current.round) == (probed.episode, probed.round)
        ):
            round_, episode = current.round + 1, current.episode
        elif current is not None:
            # Another 429 of the round in force, sent before it began.
            seconds = no_header_wait(current.round) if wait is None else wait
            until = now + min(seconds, MAX_COOLDOWN)
            if until > current.until + 1:
                current = Cooldown(current.episode, current.round, until)
                cache.set(self.key, current, timeout=self._ttl(current))
            return current
        else:
            round_, episode = 1, uuid.uuid4().hex
        seconds = no_header_wait(round_) if wait is None else wait
        cooldown = Cooldown(episode, round_, now + min(seconds, MAX_COOLDOWN))
        if round_ > 1:
            cache.set(self.key, cooldown, timeout=self._ttl(cooldown))
        elif not cache.add(self.key, cooldown, timeout=self._ttl(cooldown)):
            # A concurrent caller opened the episode first: join it.
            return self.current() or cooldown
        return cooldown

    def clear(self) -> None:
        """End the cooldown: a probe was answered with something else."""
        cache.delete(self.key)

    def _ttl(self, cooldown: Cooldown) -> int:
        left = max(0, int(cooldown.until - self.clock()) + 1)
        return left if cooldown.exhausted else left + PROBE_GRACE
