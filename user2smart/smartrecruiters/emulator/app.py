"""The emulator as one object: its parts, and the control API under `/_emulator/`."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from user2smart.smartrecruiters.emulator.faults import FaultConfig, Faults, parse_faults
from user2smart.smartrecruiters.emulator.limits import Limiter
from user2smart.smartrecruiters.emulator.oauth import Tokens
from user2smart.smartrecruiters.emulator.persistence import StateWriter, read_document
from user2smart.smartrecruiters.emulator.responses import (
    ApiError,
    Response,
    empty_response,
    error_response,
    json_response,
)
from user2smart.smartrecruiters.emulator.stats import Stats
from user2smart.smartrecruiters.emulator.store import Store, parse_frozen

log = logging.getLogger(__name__)

CONTROL_PREFIX = "/_emulator/"


class Emulator:
    def __init__(
        self,
        *,
        state_path: Path | None = None,
        seed_path: Path | None = None,
        faults: FaultConfig | None = None,
        allow_remote_control: bool = False,
    ) -> None:
        self.store = Store()
        self.tokens = Tokens()
        self.limiter = Limiter()
        self.stats = Stats()
        self.faults = Faults(faults)
        self.allow_remote_control = allow_remote_control
        start = state_path if state_path and state_path.exists() else seed_path
        if start is not None:
            self.store.reset(read_document(start))
        self.writer = StateWriter(state_path, self.store.document) if state_path else None
        if self.writer is not None:
            self.store.set_on_change(self.writer.changed)
            self.writer.changed()

    def reset(self, document: object) -> None:
        """Replace the state with `document`; forget faults, tokens, limits, stats and the
        kinds of change frozen for `updatedOn`."""
        self.store.reset(document)
        self.tokens.clear()
        self.faults.config = FaultConfig()
        self.limiter.clear()
        self.stats.clear()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()

    # -- the control API ---------------------------------------------------------------------

    def control(self, method: str, path: str, body: bytes) -> Response:
        routes = {
            ("POST", "reset"): self._reset,
            ("GET", "state"): self._state,
            ("GET", "faults"): self._get_faults,
            ("POST", "faults"): self._set_faults,
            ("POST", "expire-tokens"): self._expire_tokens,
            ("POST", "revoke"): self._revoke,
            ("GET", "stats"): self._get_stats,
            ("DELETE", "stats"): self._clear_stats,
            ("GET", "updated-on"): self._get_updated_on,
            ("POST", "updated-on"): self._set_updated_on,
        }
        handler = routes.get((method, path[len(CONTROL_PREFIX) :].rstrip("/")))
        try:
            if handler is None:
                raise ApiError(404, "NOT_FOUND", f"No control endpoint {method} {path}.")
            return handler(body)
        except ApiError as exc:
            return error_response(exc)

    @staticmethod
    def _document(body: bytes) -> object:
        try:
            return json.loads(body or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "INVALID_JSON", "The body is not valid JSON.") from None

    def _reset(self, body: bytes) -> Response:
        try:
            self.reset(self._document(body))
        except ValueError as exc:
            raise ApiError(400, "INVALID_DOCUMENT", str(exc)) from None
        return empty_response()

    def _state(self, body: bytes) -> Response:
        return json_response(200, self.store.document())

    def _get_faults(self, body: bytes) -> Response:
        return json_response(200, self.faults.config.document())

    def _set_faults(self, body: bytes) -> Response:
        try:
            self.faults.config = parse_faults(self._document(body))
        except ValueError as exc:
            raise ApiError(400, "INVALID_DOCUMENT", str(exc)) from None
        log.info("emulator: faults now %s", self.faults.config.document())
        return json_response(200, self.faults.config.document())

    def _expire_tokens(self, body: bytes) -> Response:
        self.tokens.expire_all()
        return empty_response()

    def _revoke(self, body: bytes) -> Response:
        document = self._document(body)
        api_key = document.get("api_key") if isinstance(document, dict) else None
        client_id = document.get("client_id") if isinstance(document, dict) else None
        if not isinstance(api_key, str) and not isinstance(client_id, str):
            raise ApiError(400, "INVALID_DOCUMENT", 'Give "api_key" or "client_id" to revoke.')
        if isinstance(api_key, str):
            revoked = self.store.revoke(api_key=api_key)
        else:
            revoked = self.store.revoke(client_id=client_id)
            self.tokens.revoke_client(client_id)
        if not revoked:
            raise ApiError(404, "NOT_FOUND", "No such credential.")
        return empty_response()

    def _get_stats(self, body: bytes) -> Response:
        return json_response(200, self.stats.document())

    def _clear_stats(self, body: bytes) -> Response:
        self.stats.clear()
        return empty_response()

    def _get_updated_on(self, body: bytes) -> Response:
        return json_response(200, self.store.updated_on_document())

    def _set_updated_on(self, body: bytes) -> Response:
        try:
            kinds = parse_frozen(self._document(body))
        except ValueError as exc:
            raise ApiError(400, "INVALID_DOCUMENT", str(exc)) from None
        document = self.store.freeze_updated_on(kinds)
        log.info("emulator: updatedOn now frozen for %s", document["frozen"])
        return json_response(200, document)
