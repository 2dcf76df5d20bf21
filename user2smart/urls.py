"""URL map of the whole site."""

from django.contrib import admin
from django.contrib.auth.views import LogoutView
from django.urls import include, path

from user2smart import views
from user2smart.companies import views as company_views

admin.site.site_header = "User2Smart operations"
admin.site.site_title = "User2Smart"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("signin/", company_views.SignInView.as_view(), name="signin"),
    path(
        "signin/smartrecruiters/",
        company_views.signin_smartrecruiters,
        name="signin_smartrecruiters",
    ),
    path(
        "signin/smartrecruiters/callback/",
        company_views.signin_smartrecruiters_callback,
        name="signin_smartrecruiters_callback",
    ),
    path("signout/", LogoutView.as_view(), name="signout"),
    path("company/switch/", company_views.switch_company, name="switch_company"),
    path("admin/", admin.site.urls),
    path("", include("scheduler.urls")),
    path("", include("imports.urls")),
]
