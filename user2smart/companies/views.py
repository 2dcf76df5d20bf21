"""Signing in and out, and choosing the company to work on."""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from user2smart.companies.access import choose_company
from user2smart.companies.models import Company
from user2smart.companies.services import company_by_access_key
from user2smart.companies.signin import (
    SignInRefused,
    signin_enabled,
    signin_member,
    signin_person,
    signin_redirect,
)

SR_SESSION_KEY = "sr_signin"


class SignInView(LoginView):
    template_name = "registration/signin.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs) -> dict:
        return {**super().get_context_data(**kwargs), "sr_signin": signin_enabled()}


def signin_smartrecruiters(request: HttpRequest) -> HttpResponse:
    """Step 1: the company's access key; then off to SmartRecruiters' sign-in page."""
    if not signin_enabled():
        return redirect("signin")
    error = ""
    if request.method == "POST":
        company = company_by_access_key(request.POST.get("access_key", ""))
        if company is None:
            error = "This access key is not valid. Ask your User2Smart contact for your key."
        else:
            state = secrets.token_urlsafe(24)
            request.session[SR_SESSION_KEY] = {"state": state, "company": company.pk}
            return HttpResponseRedirect(
                signin_redirect(redirect_uri=_callback_uri(request), state=state)
            )
    return render(request, "companies/signin_smartrecruiters.html", {"error": error})


def signin_smartrecruiters_callback(request: HttpRequest) -> HttpResponse:
    """Step 2: SmartRecruiters sends the person back with a code."""
    pending = request.session.pop(SR_SESSION_KEY, None)
    state = request.GET.get("state", "")
    code = request.GET.get("code", "")
    company = None
    if pending and secrets.compare_digest(str(pending.get("state", "")), state) and code:
        company = Company.objects.filter(pk=pending["company"], enabled=True).first()
    if company is None:
        return _refused(request, "The sign-in could not be completed. Please start again.")
    try:
        person = signin_person(company=company, code=code, redirect_uri=_callback_uri(request))
    except SignInRefused as exc:
        return _refused(request, str(exc))
    user = signin_member(company=company, person=person)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    choose_company(request, company.pk)
    return redirect("/")


@require_POST
def switch_company(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("signin")
    try:
        company = choose_company(request, int(request.POST.get("company", "")))
    except ValueError:
        company = None
    if company is None:
        messages.error(request, "You are not a member of that company.")
    next_url = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = "/"
    return redirect(next_url)


def _callback_uri(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("signin_smartrecruiters_callback"))


def _refused(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "companies/signin_smartrecruiters.html", {"error": message}, status=403)
