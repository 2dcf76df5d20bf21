"""Who may see what: the companies of the signed-in person, and the one they are working on."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from user2smart.companies.connection import check_connection
from user2smart.companies.models import Company, person_name

SESSION_KEY = "company_id"
CONNECTION_CACHE_SECONDS = 300


def companies_of(user) -> QuerySet[Company]:
    if not user.is_authenticated:
        return Company.objects.none()
    return Company.objects.filter(memberships__user=user, enabled=True).order_by("name")


def current_company(request: HttpRequest) -> Company | None:
    companies = companies_of(request.user)
    chosen = request.session.get(SESSION_KEY)
    if chosen is not None:
        company = companies.filter(pk=chosen).first()
        if company is not None:
            return company
    return companies.first()


def choose_company(request: HttpRequest, company_id: int) -> Company | None:
    company = companies_of(request.user).filter(pk=company_id).first()
    if company is not None:
        request.session[SESSION_KEY] = company.pk
    return company


def connection_status(company: Company) -> dict:
    """ "Connected to SmartRecruiters as First Last", checked at most every five minutes."""
    key = f"connection:{company.pk}:{company.credential_id}:{company.api_url}"
    status = cache.get(key)
    if status is None:
        result = check_connection(company)
        status = {"ok": result.ok, "message": result.message}
        cache.set(key, status, CONNECTION_CACHE_SECONDS if result.ok else 30)
    return status


def company_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page of the signed-in person's current company: `request.company` is set; a person
    without a company gets a page that says so."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            if getattr(request, "htmx", False):
                # A live part of a page whose session ended: reload the whole page (to sign-in),
                # not the sign-in form inside the live part.
                return HttpResponse(status=204, headers={"HX-Refresh": "true"})
            return redirect_to_login(request.get_full_path())
        company = current_company(request)
        if company is None:
            return render(request, "companies/no_company.html", status=403)
        request.company = company
        return view(request, *args, **kwargs)

    return wrapper


def layout_context(request: HttpRequest) -> dict:
    """Template context for the page header (a context processor)."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    signed_in_as = person_name(request.user)
    company = getattr(request, "company", None) or current_company(request)
    if company is None:
        return {"companies": [], "signed_in_as": signed_in_as}
    return {
        "signed_in_as": signed_in_as,
        "current_company": company,
        "companies": list(companies_of(request.user)),
        "connection": connection_status(company),
    }
