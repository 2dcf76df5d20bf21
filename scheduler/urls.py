"""The company admins' Schedules page."""

from django.urls import path

from scheduler import views

app_name = "scheduler"

urlpatterns = [
    path("schedules/", views.schedule_list, name="list"),
    path("schedules/new/", views.schedule_new, name="new"),
    path("schedules/host-key/", views.host_key, name="host_key"),
    path("schedules/<int:schedule_id>/", views.schedule_edit, name="edit"),
    path("schedules/<int:schedule_id>/run-now/", views.schedule_run_now, name="run_now"),
    path("schedules/<int:schedule_id>/enable/", views.schedule_enable, name="enable"),
    path("schedules/<int:schedule_id>/disable/", views.schedule_disable, name="disable"),
]
