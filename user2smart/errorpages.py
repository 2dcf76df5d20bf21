"""No traceback for people: every server error answers the friendly "Something went wrong" page.

Django answers an unexpected exception with its technical page (the traceback, the settings,
the request) when DEBUG is on, as the demo runs. This middleware, the outermost, replaces any
500 answer with `500.html` for everyone but a superuser in DEBUG (the developer at the
keyboard). Django has already logged the error (logger `django.request`, with the traceback)
by the time the answer reaches it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.defaults import server_error

log = logging.getLogger(__name__)


class FriendlyErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 500 or _sees_tracebacks(request):
            return response
        return server_error(request)


def _sees_tracebacks(request: HttpRequest) -> bool:
    if not settings.DEBUG:
        return False
    try:
        return bool(request.user.is_superuser)  # type: ignore[attr-defined]
    except Exception:
        log.warning("the signed-in person could not be read for an error page", exc_info=True)
        return False
