"""What an endpoint answers: a status, headers and body, and the error type behind 4xx answers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

JSON = "application/json"


class ApiError(Exception):
    """A refusal in SmartRecruiters' shape: `{"message", "errors": [{"code", "message"}]}`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict:
        return {"message": self.message, "errors": [{"code": self.code, "message": self.message}]}


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, document: object, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(status, body, f"{JSON}; charset=utf-8", dict(headers or {}))


def error_response(error: ApiError, headers: dict[str, str] | None = None) -> Response:
    return json_response(error.status, error.body(), headers)


def empty_response(status: int = 204, headers: dict[str, str] | None = None) -> Response:
    return Response(status, b"", None, dict(headers or {}))


def html_response(status: int, page: str, headers: dict[str, str] | None = None) -> Response:
    return Response(status, page.encode(), "text/html; charset=utf-8", dict(headers or {}))


def not_found(what: str = "Resource") -> ApiError:
    return ApiError(404, "NOT_FOUND", f"{what} not found.")


def user_not_found() -> ApiError:
    return ApiError(404, "USER_NOT_FOUND", "User not found.")
