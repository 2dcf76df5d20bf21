"""Project-level views: health, the icon browsers ask for at /favicon.ico."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from user2smart import health


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": health.check_database(), "redis": health.check_redis()}
    status = 200 if all(value == "ok" for value in checks.values()) else 503
    return JsonResponse(checks, status=status)


@require_GET
def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """Browsers ask for /favicon.ico on pages that name no icon (the admin, downloads)."""
    return redirect(static("user2smart/favicon.ico"), permanent=True)
