from django.urls import include, path

from . import geo_views, views

app_name = "records"

urlpatterns = [
    path("", views.application_list, name="application_list"),
    path("new/", views.application_create, name="application_create"),
    path("queue/", views.queue, name="queue"),
    path("<int:pk>/", views.application_detail, name="application_detail"),
    path("<int:pk>/edit/", views.application_edit, name="application_edit"),
    path("<int:pk>/identity/", views.application_identity, name="application_identity"),
    path("<int:pk>/submit/", views.application_submit, name="application_submit"),
    path("<int:pk>/withdraw/", views.application_withdraw, name="application_withdraw"),
    path("<int:pk>/review/", views.application_start_review, name="application_start_review"),
    path("<int:pk>/history/", views.application_history, name="application_history"),
    path("<int:pk>/decision/", views.decision_record, name="decision_record"),
    path("<int:pk>/information-request/", views.information_request, name="information_request"),
    path("<int:pk>/sharing/", views.application_sharing, name="application_sharing"),
    path("geo/cantons/", geo_views.cantons_for_province, name="cantons_for_province"),
    path("geo/districts/", geo_views.districts_for_canton, name="districts_for_canton"),
    path("import/", include("records.imports.urls")),
]
