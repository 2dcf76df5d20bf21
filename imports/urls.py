"""The company admins' pages."""

from django.urls import path
from django.views.generic import RedirectView

from imports.views import exports, lookups, people, profiles, runs
from imports.views import help as help_pages
from imports.views import undo as undo_views

app_name = "imports"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="imports:new"), name="home"),
    path("imports/", runs.history, name="history"),
    path("imports/new/", runs.new_import, name="new"),
    path("imports/<int:run_id>/", runs.run_page, name="run"),
    path("imports/<int:run_id>/progress/", runs.run_progress, name="progress"),
    path("imports/<int:run_id>/rows/", runs.run_rows, name="rows"),
    path("imports/<int:run_id>/apply/", runs.run_apply, name="apply"),
    path("imports/<int:run_id>/discard/", runs.run_discard, name="discard"),
    path("imports/<int:run_id>/cancel/", runs.run_cancel, name="cancel"),
    path("imports/<int:run_id>/retry/", runs.run_retry, name="retry"),
    path(
        "imports/<int:run_id>/allow-deactivations/",
        runs.run_allow_deactivations,
        name="allow_deactivations",
    ),
    path("imports/<int:run_id>/undo/", undo_views.run_undo, name="undo"),
    path("imports/<int:run_id>/log.csv", runs.run_log, name="log"),
    path("imports/<int:run_id>/failed-rows.csv", runs.run_failed_rows, name="failed_rows"),
    path("export/", exports.export_users, name="export"),
    path("export/<int:export_id>/", exports.export_status, name="export_status"),
    path("export/<int:export_id>/download/", exports.export_download, name="export_download"),
    path("people/", people.people, name="people"),
    path("people/<str:user_id>/", people.person, name="person"),
    path("profiles/", profiles.profiles, name="profiles"),
    path("profiles/new/", profiles.profile_page, name="profile_new"),
    path("profiles/sample/", profiles.profile_sample, name="profile_sample"),
    path("profiles/preview/", profiles.profile_preview, name="profile_preview"),
    path("profiles/<int:profile_id>/", profiles.profile_page, name="profile"),
    path("profiles/<int:profile_id>.json", profiles.profile_download, name="profile_download"),
    path("lists/", lookups.lists, name="lists"),
    path("lists/<slug:kind>.csv", lookups.list_download, name="list_download"),
    path("help/", help_pages.help_page, name="help"),
    path("help/template.csv", help_pages.template_file, name="template"),
    path("help/csv-format/", help_pages.csv_format, name="csv_format"),
]
