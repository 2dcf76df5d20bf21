"""One rate limiter per SmartRecruiters credential, shared by every process through Redis.

SmartRecruiters allows each credential 10 requests per second and 8 in flight (429 beyond). The
limiter keeps every process on every machine within both limits:

- **Rate**: a sliding-window log (a sorted set of start times). A request may start when fewer
  than `rps` requests started in the last `1 + margin` seconds. The margin (default 30 ms) covers
  the jitter between the moment Redis grants a slot and the moment the request reaches
  SmartRecruiters, which measures its windows at its end; it costs ~3 % of the throughput.
  Starts are also paced at least `PACING / rps` apart, so that a crowd of waiting requests is
  spread over the window instead of arriving at once (arrival jitter is worst in a burst).
- **Concurrency**: in-flight slots are leases in a second sorted set, scored by their expiry.
  Leaving `slot()` returns the lease; a process killed mid-request leaves a lease that expires
  after `lease_seconds` (keep it a little above the client's read timeout), so the slot comes back.
- **Back-off**: a 429 makes the credential back off for everyone: `backoff(retry_after)` stops
  every slot until then; with no `Retry-After`, waits grow 1, 2, 4... s (capped at 60 s), and fall
  back to 1 s after an answer, or once 5 s pass after a back-off without another 429.

Every decision is one Lua script run atomically inside Redis on Redis' own clock, so the clocks of
the machines do not matter. Waiting sleeps until the earliest moment the window can allow a start
(rate), or polls every ~20 ms (concurrency); it never spins.

If Redis cannot be reached, the limiter falls back to a conservative limit **per process**:
1 request per second and 1 in flight (`FALLBACK_RPS`, `FALLBACK_CONCURRENCY`), logs that once, and
tries Redis again every `REDIS_RETRY_SECONDS`.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
import uuid
from collections.abc import Iterator

import redis

from user2smart.smartrecruiters.errors import RetryableError

logger = logging.getLogger(__name__)

# What "Redis is unreachable" looks like; any other Redis error is a bug and is raised.
_REDIS_DOWN = (redis.ConnectionError, redis.TimeoutError)

DEFAULT_PREFIX = "user2smart:ratelimit"
DEFAULT_MARGIN_SECONDS = 0.03
DEFAULT_LEASE_SECONDS = 75.0
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 60.0
# The wait doubles only while 429s keep coming: a 429 more than this long after the previous
# back-off ended starts again from BACKOFF_BASE_SECONDS.
BACKOFF_MEMORY_SECONDS = 5.0
MAX_BACKOFF_SECONDS = 600.0
POLL_SECONDS = 0.02
# Two starts are at least PACING / rps apart (50 ms at 10 req/s): a burst of waiting requests is
# spread out instead of arriving at once, where its arrival jitter would push one of them into
# the next window. The window still decides the rate.
PACING = 0.5
FALLBACK_RPS = 1
FALLBACK_CONCURRENCY = 1
REDIS_RETRY_SECONDS = 5.0

# KEYS: starts, leases, backoff-until. ARGV: rps, concurrency, window_us, lease_us, token, gap_us.
# Returns 0 when the slot is granted, the microseconds to wait when the rate window or a back-off
# is the obstacle, or -1 when every in-flight slot is taken.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local rps = tonumber(ARGV[1])
local concurrency = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local lease = tonumber(ARGV[4])
local held_until = tonumber(redis.call('GET', KEYS[3]) or '0')
if now < held_until then
    return held_until - now
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if newest[2] then
    local since = now - tonumber(newest[2])
    if since < tonumber(ARGV[6]) then
        return math.max(1, tonumber(ARGV[6]) - since)
    end
end
if redis.call('ZCARD', KEYS[1]) >= rps then
    local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    return math.max(1, tonumber(oldest[2]) + window - now + 1)
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= concurrency then
    return -1
end
redis.call('ZADD', KEYS[1], now, ARGV[5])
redis.call('ZADD', KEYS[2], now + lease, ARGV[5])
redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
redis.call('PEXPIRE', KEYS[2], math.ceil(lease / 1000) + 1000)
return 0
"""

# KEYS: backoff-until, backoff-level. ARGV: seconds (or '' for exponential), base, cap, memory.
# Returns the back-off in microseconds that is now in force.
_BACKOFF = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local held_until = tonumber(redis.call('GET', KEYS[1]) or '0')
local seconds = tonumber(ARGV[1])
if seconds == nil then
    if now < held_until then
        return held_until - now
    end
    local level = redis.call('INCR', KEYS[2])
    seconds = math.min(tonumber(ARGV[2]) * 2 ^ (level - 1), tonumber(ARGV[3]))
    redis.call('PEXPIRE', KEYS[2], math.floor((seconds + tonumber(ARGV[4])) * 1000))
end
local wanted = now + math.floor(seconds * 1000000)
if wanted > held_until then
    held_until = wanted
    local ttl_ms = math.ceil(seconds * 1000) + 1000
    redis.call('SET', KEYS[1], string.format('%d', held_until), 'PX', ttl_ms)
end
return held_until - now
"""


class RateLimitWaitTimeout(RetryableError):
    """No slot became free within the time the caller was willing to wait.

    `retry_after` is how long the limiter still asked to wait (a back-off, the rate window), or
    None when every in-flight slot was taken: the caller can hand its work back until then.
    Nothing was sent.
    """

    def __init__(self, retry_after: float | None = None) -> None:
        super().__init__("No rate-limit slot became free in time.", retry_after=retry_after)


class RateLimiter:
    """`with limiter.slot(): <one HTTP request>` keeps a credential within its limits."""

    def __init__(
        self,
        redis_client: redis.Redis,
        key: str,
        rps: int = 10,
        concurrency: int = 8,
        *,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        margin_seconds: float = DEFAULT_MARGIN_SECONDS,
        prefix: str = DEFAULT_PREFIX,
    ) -> None:
        if rps < 1 or concurrency < 1:
            raise ValueError("rps and concurrency must be at least 1")
        if lease_seconds <= 0 or margin_seconds < 0:
            raise ValueError("lease_seconds must be positive and margin_seconds not negative")
        self.redis = redis_client
        self.key = key
        self.rps = rps
        self.concurrency = concurrency
        self.lease_seconds = lease_seconds
        self.margin_seconds = margin_seconds
        self.prefix = prefix
        base = f"{prefix}:{{{key}}}"
        self.starts_key = f"{base}:starts"
        self.leases_key = f"{base}:leases"
        self.backoff_key = f"{base}:backoff"
        self.level_key = f"{base}:level"
        self._acquire = redis_client.register_script(_ACQUIRE)
        self._backoff = redis_client.register_script(_BACKOFF)
        self._fallback = _fallback_for(key)
        self._backed_off = False

    def __repr__(self) -> str:
        return f"<RateLimiter {self.key} {self.rps}/s {self.concurrency} in flight>"

    @property
    def keys(self) -> list[str]:
        """Every Redis key this limiter writes (for clean-up and inspection)."""
        return [self.starts_key, self.leases_key, self.backoff_key, self.level_key]

    @contextlib.contextmanager
    def slot(self, timeout: float | None = None) -> Iterator[None]:
        """Wait until a request may start, hold an in-flight slot while the block runs.

        Raises `RateLimitWaitTimeout` when `timeout` seconds pass without a slot, or at once
        when the limiter asks for a longer wait than the time left (a back-off after a 429).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        token = self._wait_for_redis_slot(deadline)
        if token is None:  # Redis is unreachable: the conservative per-process limit.
            with self._fallback.slot(deadline):
                yield
            return
        try:
            yield
        finally:
            self._release(token)

    def succeeded(self) -> None:
        """A request of this credential was answered: the next 429 starts the waits afresh.

        Costs a Redis call only in a process that has itself backed off since its last success.
        """
        if not self._backed_off:
            return
        self._backed_off = False
        self._fallback.succeeded()
        if self._redis_available():
            try:
                self.redis.delete(self.level_key)
            except _REDIS_DOWN as exc:
                self._redis_failed(exc)

    def backoff(self, seconds: float | None = None) -> float:
        """Stop every slot of this credential for `seconds` (a 429's Retry-After), or for an
        exponentially growing wait while 429s come with no answer in between. Returns the wait
        now in force."""
        self._backed_off = True
        if seconds is not None:
            seconds = min(max(float(seconds), 0.0), MAX_BACKOFF_SECONDS)
        if self._redis_available():
            try:
                waited = self._backoff(
                    keys=[self.backoff_key, self.level_key],
                    args=[
                        "" if seconds is None else repr(seconds),
                        BACKOFF_BASE_SECONDS,
                        BACKOFF_CAP_SECONDS,
                        BACKOFF_MEMORY_SECONDS,
                    ],
                )
                self._redis_ok()
                return int(waited) / 1_000_000
            except _REDIS_DOWN as exc:
                self._redis_failed(exc)
        return self._fallback.backoff(seconds)

    def _wait_for_redis_slot(self, deadline: float | None) -> str | None:
        token = uuid.uuid4().hex
        window_us = int((1.0 + self.margin_seconds) * 1_000_000)
        lease_us = int(self.lease_seconds * 1_000_000)
        gap_us = int(PACING * 1_000_000 / self.rps)
        while self._redis_available():
            try:
                wait_us = int(
                    self._acquire(
                        keys=[self.starts_key, self.leases_key, self.backoff_key],
                        args=[self.rps, self.concurrency, window_us, lease_us, token, gap_us],
                    )
                )
            except _REDIS_DOWN as exc:
                self._redis_failed(exc)
                return None
            self._redis_ok()
            if wait_us == 0:
                return token
            if wait_us < 0:  # every in-flight slot is taken: look again shortly
                pause = POLL_SECONDS * random.uniform(0.5, 1.5)  # noqa: S311 (jitter)
                _sleep_until(pause, deadline, known=False)
            else:  # the rate window or a back-off: sleep until it can allow a start
                pause = wait_us / 1_000_000 + random.uniform(0, 0.002)  # noqa: S311
                _sleep_until(pause, deadline)
        return None

    def _release(self, token: str) -> None:
        try:
            self.redis.zrem(self.leases_key, token)
        except _REDIS_DOWN as exc:  # the lease expires on its own
            self._redis_failed(exc)

    def _redis_available(self) -> bool:
        return time.monotonic() >= self._fallback.redis_down_until

    def _redis_ok(self) -> None:
        if self._fallback.down:
            self._fallback.redis_recovered()

    def _redis_failed(self, exc: Exception) -> None:
        self._fallback.redis_failed(exc)


def _sleep_until(pause: float, deadline: float | None, *, known: bool = True) -> None:
    """Sleep `pause` seconds; raise instead when the deadline comes first.

    `known`: the pause is the wait the limiter asked for (not a poll), so a wait longer than the
    time left is given up at once, with the wait, rather than slept through in vain.
    """
    if deadline is not None:
        left = deadline - time.monotonic()
        if left <= 0 or (known and pause > left):
            raise RateLimitWaitTimeout(pause if known else None)
        pause = min(pause, left)
    time.sleep(pause)


class _ProcessLimiter:
    """The fallback while Redis is unreachable: FALLBACK_RPS and FALLBACK_CONCURRENCY for this
    process and credential, whatever the credential's real limits."""

    def __init__(self, key: str) -> None:
        self.key = key
        self._in_flight = threading.BoundedSemaphore(FALLBACK_CONCURRENCY)
        self._lock = threading.Lock()
        self._next_start = 0.0
        self._backoff_until = 0.0
        self._level = 0
        self.down = False
        self.redis_down_until = 0.0

    @contextlib.contextmanager
    def slot(self, deadline: float | None) -> Iterator[None]:
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        if not self._in_flight.acquire(timeout=timeout):
            raise RateLimitWaitTimeout()
        try:
            while True:
                with self._lock:
                    now = time.monotonic()
                    start = max(self._next_start, self._backoff_until)
                    if now >= start:
                        self._next_start = now + 1.0 / FALLBACK_RPS
                        break
                _sleep_until(start - now, deadline)
            yield
        finally:
            self._in_flight.release()

    def succeeded(self) -> None:
        with self._lock:
            self._level = 0

    def backoff(self, seconds: float | None) -> float:
        with self._lock:
            now = time.monotonic()
            if seconds is None:
                if now < self._backoff_until:
                    return self._backoff_until - now
                self._level += 1
                seconds = min(BACKOFF_BASE_SECONDS * 2 ** (self._level - 1), BACKOFF_CAP_SECONDS)
            self._backoff_until = max(self._backoff_until, now + seconds)
            return self._backoff_until - now

    def redis_failed(self, exc: Exception) -> None:
        with self._lock:
            self.redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS
            if self.down:
                return
            self.down = True
        logger.warning(
            "Redis is unreachable (%s): rate limiter %s falls back to %d request/s and %d in "
            "flight for this process until it is back.",
            type(exc).__name__,
            self.key,
            FALLBACK_RPS,
            FALLBACK_CONCURRENCY,
        )

    def redis_recovered(self) -> None:
        with self._lock:
            was_down, self.down = self.down, False
        if was_down:
            logger.info("Redis is reachable again: rate limiter %s is shared again.", self.key)


_fallbacks: dict[str, _ProcessLimiter] = {}
_fallbacks_lock = threading.Lock()


def _fallback_for(key: str) -> _ProcessLimiter:
    """One fallback per credential and process, shared by every RateLimiter of that credential."""
    with _fallbacks_lock:
        if key not in _fallbacks:
            _fallbacks[key] = _ProcessLimiter(key)
        return _fallbacks[key]
