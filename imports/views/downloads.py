"""CSV downloads: always an attachment, never something a browser would render."""

from __future__ import annotations

from django.http import HttpResponse

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


def csv_download(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
