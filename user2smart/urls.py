"""URL map of the whole site."""

from django.contrib import admin
from django.urls import path

from user2smart import views

admin.site.site_header = "User2Smart operations"
admin.site.site_title = "User2Smart"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
