"""What a signed-in person may open: the runs and exports of their own companies, nothing else.

Another company's id answers 404, exactly like an id that does not exist.
"""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from user2smart.companies.access import choose_company, companies_of

M = TypeVar("M", bound=Model)


def owned(request: HttpRequest, queryset: QuerySet[M], pk: int, *, page: bool = False) -> M:
    """The object `pk` of `queryset` if it belongs to one of the person's companies, else 404.

    `page=True` (a full page, not a fragment or an action): when the object belongs to another of
    the person's companies than the current one, that company becomes the current one, so the
    header matches what is shown.
    """
    found = get_object_or_404(queryset, pk=pk, company__in=companies_of(request.user))
    if page and found.company_id != request.company.pk:
        request.company = choose_company(request, found.company_id)
    return found
