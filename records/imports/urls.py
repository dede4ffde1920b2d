"""Included by records/urls.py under "import/", in the records namespace (records:import_upload, ...)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.import_upload, name="import_upload"),
    path("template.<str:file_format>", views.import_template, name="import_template"),
    path("<int:pk>/", views.import_preview, name="import_preview"),
    path("<int:pk>/confirm/", views.import_confirm, name="import_confirm"),
    path("<int:pk>/cancel/", views.import_cancel, name="import_cancel"),
    path("<int:pk>/progress/", views.import_progress, name="import_progress"),
    path("export/", views.export_applications, name="export_applications"),
]
