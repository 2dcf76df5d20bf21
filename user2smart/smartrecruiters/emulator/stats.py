"""What the emulator received, for tests and benchmarks to read at `GET /_emulator/stats`.

Document keys (other code reads them; keep them stable):
`requests` {"<METHOD> <path template>": {"<status>" | "timeout": n}}, `throttled` (429s sent),
`credentials` {label: {requests, throttled, max_requests_1s, max_concurrency}},
`creates_by_email`, `activation_emails`, `password_resets` ({lower-cased email: n}),
`create_attempts_by_email`, `create_conflicts_by_email` ({lower-cased email: n}),
`activation_emails_by_user` ({user id: n}).

About creates, per lower-cased email:
- `create_attempts_by_email`: every `POST /users` received whose body names an email, whatever
  its answer: 201, 4xx (401, 409, a refused field), 429 (the real limit or injected), an injected
  5xx or timeout (nothing done) and a create-then-timeout (the user IS created). Counted on
  receipt, before the credential is checked.
- `creates_by_email`: the attempts that created a user, the create-then-timeout ones included.
- `create_conflicts_by_email`: the attempts answered 409 (`USER_ALREADY_EXISTS` or
  `SSO_IDENTIFIER_ALREADY_EXISTS`).
So a client that never creates a user twice has `creates_by_email` 1 per email, whatever the
faults; one that sends a create again after its first one succeeded shows a 409.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field

from user2smart.smartrecruiters.emulator.limits import WINDOW_SECONDS

# The counted events, each {key: n}: by lower-cased email, except activation_emails_by_user.
EVENTS = (
    "creates_by_email",
    "create_attempts_by_email",
    "create_conflicts_by_email",
    "activation_emails",
    "activation_emails_by_user",
    "password_resets",
)


@dataclass(slots=True)
class _Credential:
    requests: int = 0
    throttled: int = 0
    max_requests_1s: int = 0
    max_concurrency: int = 0
    in_flight: int = 0
    starts: deque[float] = field(default_factory=deque)


class Stats:
    """Counts by generation: calls that began before a clear are not counted after it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation = 0
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._requests: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
            self._throttled = 0
            self._credentials: dict[str, _Credential] = {}
            self._events: dict[str, dict[str, int]] = {name: defaultdict(int) for name in EVENTS}

    def begin(self, label: str) -> int:
        """A call of `label` was received (whatever its answer will be); returns its generation."""
        with self._lock:
            now = time.monotonic()
            credential = self._credentials.get(label)
            if credential is None:
                credential = self._credentials[label] = _Credential()
            credential.requests += 1
            credential.in_flight += 1
            credential.max_concurrency = max(credential.max_concurrency, credential.in_flight)
            starts = credential.starts
            starts.append(now)
            while starts[0] <= now - WINDOW_SECONDS:
                starts.popleft()
            credential.max_requests_1s = max(credential.max_requests_1s, len(starts))
            return self._generation

    def end(self, label: str, generation: int) -> None:
        with self._lock:
            if generation == self._generation:
                self._credentials[label].in_flight -= 1

    def answered(
        self,
        endpoint: str,
        status: int | str,
        label: str | None = None,
        generation: int | None = None,
    ) -> None:
        """Count one answer (`status` is the code, or "timeout" when none was sent)."""
        with self._lock:
            if generation is not None and generation != self._generation:
                return
            self._requests[endpoint][str(status)] += 1
            if status == 429:
                self._throttled += 1
                if label is not None:
                    self._credentials[label].throttled += 1

    def event(self, kind: str, email: str) -> None:
        """Count one `kind` (a key of EVENTS keyed by email) for the lower-cased email."""
        with self._lock:
            self._events[kind][email.lower()] += 1

    def activation_email(self, user_id: str, email: str) -> None:
        """An activation email accepted: counted by email and by user id."""
        with self._lock:
            self._events["activation_emails"][email.lower()] += 1
            self._events["activation_emails_by_user"][user_id] += 1

    def document(self) -> dict:
        with self._lock:
            return {
                "requests": {key: dict(counts) for key, counts in self._requests.items()},
                "throttled": self._throttled,
                "credentials": {
                    label: {
                        "requests": c.requests,
                        "throttled": c.throttled,
                        "max_requests_1s": c.max_requests_1s,
                        "max_concurrency": c.max_concurrency,
                    }
                    for label, c in self._credentials.items()
                },
                **{kind: dict(counts) for kind, counts in self._events.items()},
            }
