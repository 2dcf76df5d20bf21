"""SmartRecruiters' two limits, enforced per credential: requests per second and in flight.

The rate rule: no more than `rps` requests are accepted whose start falls in any sliding
one-second window (refused requests do not count). The concurrency rule: no more than
`concurrent` accepted requests are in flight at once. Every answer to the credential carries the
four `X-RateLimit-*` headers.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

from user2smart.smartrecruiters.emulator.model import RateLimit

WINDOW_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Admission:
    accepted: bool
    code: str | None  # why it was refused: RATE_LIMIT_EXCEEDED or CONCURRENCY_LIMIT_EXCEEDED
    headers: dict[str, str]
    generation: int


class Limiter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation = 0
        self._starts: dict[str, deque[float]] = {}
        self._in_flight: dict[str, int] = {}

    def acquire(self, label: str, limit: RateLimit | None) -> Admission:
        """Decide on one request; when accepted, `release()` must follow once it is answered."""
        with self._lock:
            in_flight = self._in_flight.get(label, 0)
            if limit is None:
                self._in_flight[label] = in_flight + 1
                return Admission(True, None, {}, self._generation)
            now = time.monotonic()
            starts = self._starts.setdefault(label, deque())
            while starts and starts[0] <= now - WINDOW_SECONDS:
                starts.popleft()
            code = None
            if len(starts) >= limit.rps:
                code = "RATE_LIMIT_EXCEEDED"
            elif in_flight >= limit.concurrent:
                code = "CONCURRENCY_LIMIT_EXCEEDED"
            else:
                starts.append(now)
                in_flight += 1
                self._in_flight[label] = in_flight
            headers = {
                "X-RateLimit-Limit": str(limit.rps),
                "X-RateLimit-Remaining": str(max(limit.rps - len(starts), 0)),
                "X-RateLimit-Concurrent-Limit": str(limit.concurrent),
                "X-RateLimit-Concurrent-Remaining": str(max(limit.concurrent - in_flight, 0)),
            }
            return Admission(code is None, code, headers, self._generation)

    def release(self, label: str, admission: Admission) -> None:
        with self._lock:
            if admission.accepted and admission.generation == self._generation:
                self._in_flight[label] -= 1

    def clear(self) -> None:
        """Start afresh (a reset): calls still in flight from before no longer count."""
        with self._lock:
            self._generation += 1
            self._starts.clear()
            self._in_flight.clear()
