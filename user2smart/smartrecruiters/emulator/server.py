"""The HTTP side: a threaded HTTP/1.1 server (keep-alive) in front of an `Emulator`.

A User API call goes: route (a create attempt is counted) -> credential (401) -> stats -> rate
limits (429) -> latency -> injected fault -> handler -> answer. The call counts as in flight until
its answer is ready.
"""

from __future__ import annotations

import ipaddress
import logging
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from user2smart.smartrecruiters.emulator import api, oauth
from user2smart.smartrecruiters.emulator.app import CONTROL_PREFIX, Emulator
from user2smart.smartrecruiters.emulator.limits import Admission
from user2smart.smartrecruiters.emulator.responses import (
    ApiError,
    Response,
    error_response,
)
from user2smart.smartrecruiters.emulator.store import Principal

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 20 * 1024 * 1024
TOKEN_PATH = "/identity/oauth/token"  # noqa: S105 (a path, not a secret)
ALLOW_PATH = "/identity/oauth/allow"


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1, or an IPv4-mapped loopback address."""
    address = ipaddress.ip_address(host)
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: Emulator, verbose: bool = False) -> None:
        super().__init__(address, Handler)
        self.app = app
        self.verbose = verbose

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away (e.g. its read timed out) is no error of the emulator's."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class _BadRequest(Exception):
    pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 120  # an idle keep-alive connection is closed after this many seconds
    server_version = "SmartRecruitersEmulator/1.0"
    server: EmulatorServer

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def log_message(self, format: str, *args: object) -> None:
        if self.server.verbose:
            sys.stderr.write(f"{self.address_string()} - {format % args}\n")

    # -- plumbing ----------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise _BadRequest("Content-Length is not a number.") from None
        if not 0 <= length <= MAX_BODY_BYTES:
            raise _BadRequest("The body is too large.")
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        chunks, total = [], 0
        while True:
            try:
                size = int(self.rfile.readline(1024).split(b";")[0].strip(), 16)
            except ValueError:
                raise _BadRequest("Malformed chunked body.") from None
            if size == 0:
                while self.rfile.readline(65536) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                raise _BadRequest("The body is too large.")
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        if response.status not in (204, 304):
            self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if response.body:
            self.wfile.write(response.body)

    def _from_loopback(self) -> bool:
        return is_loopback(self.client_address[0])

    def _dispatch(self, method: str) -> None:
        try:
            body = self._read_body()
        except _BadRequest as exc:
            self.close_connection = True
            self._send(error_response(ApiError(400, "BAD_REQUEST", str(exc))))
            return
        url = urlsplit(self.path)
        app = self.server.app
        try:
            if url.path.startswith(CONTROL_PREFIX):
                if self._from_loopback() or app.allow_remote_control:
                    response = app.control(method, url.path, body)
                else:
                    message = "The control API answers loopback clients only."
                    response = error_response(ApiError(403, "FORBIDDEN", message))
            elif url.path == TOKEN_PATH:
                response = self._token(method, body)
            elif url.path == ALLOW_PATH:
                response = self._allow(method, url.query, body)
            elif url.path.startswith(api.API_PREFIX + "/"):
                response = self._api(method, url.path[len(api.API_PREFIX) :], url.query, body)
            else:
                response = error_response(ApiError(404, "NOT_FOUND", f"No resource {url.path}."))
        except Exception:
            log.exception("emulator: %s %s failed", method, url.path)
            response = error_response(ApiError(500, "INTERNAL_ERROR", "The emulator failed."))
        if response is None:  # an injected timeout: the connection closes with no answer
            self.close_connection = True
            return
        self._send(response)

    # -- OAuth -------------------------------------------------------------------------------

    def _token(self, method: str, body: bytes) -> Response:
        app = self.server.app
        if method != "POST":
            response = error_response(ApiError(405, "METHOD_NOT_ALLOWED", "Use POST."))
        else:
            headers = {name.lower(): value for name, value in self.headers.items()}
            response = oauth.token_endpoint(app.store, app.tokens, headers, body)
        app.stats.answered(f"{method} {TOKEN_PATH}", response.status)
        return response

    def _allow(self, method: str, query: str, body: bytes) -> Response:
        app = self.server.app
        if method == "GET":
            return oauth.allow_page(app.store, query)
        if method == "POST":
            return oauth.allow_submit(app.store, app.tokens, body)
        return error_response(ApiError(405, "METHOD_NOT_ALLOWED", "Use GET or POST."))

    # -- the User API ------------------------------------------------------------------------

    def _principal(self) -> Principal | None:
        app = self.server.app
        api_key = self.headers.get("X-SmartToken")
        if api_key:
            return app.store.api_key_principal(api_key.strip())
        authorization = self.headers.get("Authorization", "")
        if authorization[:7].lower() == "bearer ":
            return app.tokens.principal(authorization[7:].strip())
        return None

    def _api(self, method: str, path: str, query: str, body: bytes) -> Response | None:
        app = self.server.app
        route = api.match(method, path)
        key = route.key if route else f"{method} <unknown>"
        if key == "POST /users":  # counted on receipt, whatever the answer will be
            email = api.create_email(body)
            if email is not None:
                app.stats.event("create_attempts_by_email", email)
        principal = self._principal()
        if principal is None:
            app.stats.answered(key, 401)
            sent = self.headers.get("X-SmartToken") or self.headers.get("Authorization")
            message = (
                "The credential is not valid or has expired."
                if sent
                else "Authentication required: send X-SmartToken or Authorization: Bearer."
            )
            error = ApiError(401, "UNAUTHORIZED", message)
            return error_response(error, {"WWW-Authenticate": 'Bearer realm="SmartRecruiters"'})
        label = principal.label
        generation = app.stats.begin(label)
        admission = app.limiter.acquire(label, app.store.rate_limit(principal.company_id))
        try:
            return self._api_answer(route, key, principal, admission, query, body, generation)
        finally:
            app.limiter.release(label, admission)
            app.stats.end(label, generation)

    def _api_answer(
        self,
        route: api.Match | None,
        key: str,
        principal: Principal,
        admission: Admission,
        query: str,
        body: bytes,
        generation: int,
    ) -> Response | None:
        app = self.server.app
        latency = app.faults.latency_seconds()
        if latency:
            time.sleep(latency)
        if not admission.accepted:
            message = "Too many requests: the credential is over its limit."
            response = error_response(ApiError(429, admission.code or "", message))
            response.headers["Retry-After"] = "1"
        elif route is None:
            response = error_response(ApiError(404, "NOT_FOUND", "No such endpoint."))
        elif route.handler is None:
            message = f"Use {', '.join(route.allowed)}."
            response = error_response(ApiError(405, "METHOD_NOT_ALLOWED", message))
            response.headers["Allow"] = ", ".join(route.allowed)
        else:
            fault = app.faults.draw()
            if fault == "timeout":
                return self._hold(key, generation)
            if fault == "throttle":
                response = app.faults.throttle_response()
            elif fault == "error":
                response = app.faults.error_response()
            else:
                response = self._handle(route.handler, route.params, principal, query, body)
                if (
                    route.key == "POST /users"
                    and response.status == 201
                    and app.faults.lose_create_answer()
                ):
                    return self._hold(key, generation)
        response.headers.update(admission.headers)
        app.stats.answered(key, response.status, principal.label, generation)
        return response

    def _handle(
        self,
        handler: api.Handler,
        params: dict[str, str],
        principal: Principal,
        query: str,
        body: bytes,
    ) -> Response:
        app = self.server.app
        call = api.Call(
            store=app.store,
            stats=app.stats,
            principal=principal,
            params=params,
            query=query,
            content_type=self.headers.get("Content-Type", ""),
            body=body,
            create_response_quirk=app.faults.config.create_response_quirk,
        )
        try:
            return handler(call)
        except ApiError as exc:
            return error_response(exc)

    def _hold(self, key: str, generation: int) -> None:
        """An injected timeout: hold the call, then let the connection close with no answer."""
        app = self.server.app
        time.sleep(app.faults.config.timeout_hold_ms / 1000)
        app.stats.answered(key, "timeout", generation=generation)


def make_server(app: Emulator, host: str, port: int, verbose: bool = False) -> EmulatorServer:
    return EmulatorServer((host, port), app, verbose)
