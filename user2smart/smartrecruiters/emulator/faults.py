"""Injected faults: latency, server errors, 429s, timeouts, and creates whose answer is lost.

They apply to User API calls only (not to `/_emulator/`, the token endpoint or the sign-in page).
Each kind is drawn independently for every call, in this order: throttle, error, timeout; then,
for `POST /users` that succeeded, create_then_timeout.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace

from user2smart.smartrecruiters.emulator.responses import (
    ApiError,
    Response,
    error_response,
    html_response,
)

RATES = ("error_rate", "throttle_rate", "timeout_rate", "create_then_timeout_rate")
KEYS = (*RATES, "latency_ms", "throttle_retry_after", "timeout_hold_ms", "create_response_quirk")
QUIRK_FIELDS = ("externalData", "ssoLoginMode", "ssoIdentifier")
QUIRK_LOCATION_FIELDS = ("regionCode", "region", "latitude", "longitude")

_PROXY_PAGE = (
    "<html><head><title>{status} {reason}</title></head><body><center><h1>{status} {reason}</h1>"
    "</center><hr><center>nginx</center></body></html>"
)


@dataclass(frozen=True, slots=True)
class FaultConfig:
    latency_ms: tuple[int, int] = (0, 0)
    error_rate: float = 0.0
    throttle_rate: float = 0.0
    throttle_retry_after: bool = True
    timeout_rate: float = 0.0
    create_then_timeout_rate: float = 0.0
    timeout_hold_ms: int = 3000
    create_response_quirk: bool = False

    def document(self) -> dict:
        document = asdict(self)
        document["latency_ms"] = list(self.latency_ms)
        return document


def _latency(value: object) -> tuple[int, int]:
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return (int(value), int(value))
    if (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        and 0 <= value[0] <= value[1]
    ):
        return (int(value[0]), int(value[1]))
    raise ValueError("latency_ms must be a number of milliseconds or [min, max].")


def parse_faults(document: object) -> FaultConfig:
    """The faults document (omitted keys mean no fault); raises ValueError naming a bad key."""
    if not isinstance(document, Mapping):
        raise ValueError("The faults document must be a JSON object.")
    unknown = sorted(set(document) - set(KEYS))
    if unknown:
        raise ValueError(f"Unknown fault keys {unknown}; known: {list(KEYS)}.")
    config = FaultConfig()
    changes: dict = {}
    for key in RATES:
        value = document.get(key, 0.0)
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 1:
            raise ValueError(f"{key} must be a share between 0 and 1.")
        changes[key] = float(value)
    if "latency_ms" in document:
        changes["latency_ms"] = _latency(document["latency_ms"])
    for key in ("throttle_retry_after", "create_response_quirk"):
        if key in document:
            if not isinstance(document[key], bool):
                raise ValueError(f"{key} must be true or false.")
            changes[key] = document[key]
    if "timeout_hold_ms" in document:
        hold = document["timeout_hold_ms"]
        if not isinstance(hold, int) or isinstance(hold, bool) or hold < 0:
            raise ValueError("timeout_hold_ms must be a whole number of milliseconds.")
        changes["timeout_hold_ms"] = hold
    return replace(config, **changes)


def load_faults_file(path: str) -> FaultConfig:
    with open(path, encoding="utf-8") as handle:
        return parse_faults(json.load(handle))


class Faults:
    def __init__(self, config: FaultConfig | None = None) -> None:
        self.config = config or FaultConfig()
        self._rng = random.Random()  # noqa: S311 (fault draws, not secrets)
        self._lock = threading.Lock()

    def _chance(self, share: float) -> bool:
        if share <= 0:
            return False
        with self._lock:
            return self._rng.random() < share

    def latency_seconds(self) -> float:
        low, high = self.config.latency_ms
        if high <= 0:
            return 0.0
        with self._lock:
            return self._rng.uniform(low, high) / 1000

    def draw(self) -> str | None:
        """The fault for one call, before it is handled: throttle, error, timeout or None."""
        config = self.config
        if self._chance(config.throttle_rate):
            return "throttle"
        if self._chance(config.error_rate):
            return "error"
        if self._chance(config.timeout_rate):
            return "timeout"
        return None

    def lose_create_answer(self) -> bool:
        return self._chance(self.config.create_then_timeout_rate)

    def throttle_response(self) -> Response:
        headers = {"Retry-After": "1"} if self.config.throttle_retry_after else {}
        error = ApiError(429, "TOO_MANY_REQUESTS", "Too many requests.")
        return error_response(error, headers)

    def error_response(self) -> Response:
        """A 500 or 503 in SmartRecruiters' JSON, or a 502 or 503 HTML page from a proxy."""
        with self._lock:
            kind = self._rng.randrange(4)
        if kind == 0:
            return error_response(ApiError(500, "INTERNAL_ERROR", "Internal server error."))
        if kind == 1:
            return error_response(ApiError(503, "SERVICE_UNAVAILABLE", "Service unavailable."))
        status, reason = (
            (502, "Bad Gateway") if kind == 2 else (503, "Service Temporarily Unavailable")
        )
        return html_response(status, _PROXY_PAGE.format(status=status, reason=reason))


def drop_create_fields(entity: dict) -> dict:
    """The create-answer quirk third parties report: some fields come back null."""
    for name in QUIRK_FIELDS:
        entity[name] = None
    entity["systemRole"] = {"id": entity["systemRole"]["id"]}
    if entity.get("location"):
        for name in QUIRK_LOCATION_FIELDS:
            entity["location"][name] = None
    return entity
