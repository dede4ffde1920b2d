from django.urls import path

from . import charts, views

app_name = "indicators"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("disaggregations/", views.dimensions, name="dimensions"),
    path("disaggregations/<slug:key>/", views.dimension, name="dimension"),
    path("intersections/", views.intersections, name="intersections"),
    path("trends/", views.trends_page, name="trends"),
    path("profiles/", views.profiles, name="profiles"),
    path("relations/", views.relations, name="relations"),
    path("maps/", views.maps, name="maps"),
    path("quality/", views.quality, name="quality"),
    path("protection/", views.protection, name="protection"),
    path("international/", views.international, name="international"),
    path("chart/<slug:slug>/", charts.ReportChartView.as_view(), name="chart"),
    path("export/<slug:slug>.<str:fmt>", views.export, name="export"),
    path("saved/", views.saved_view_list, name="saved_views"),
    path("saved/new/", views.saved_view_create, name="saved_view_create"),
    path("saved/<int:pk>/delete/", views.saved_view_delete, name="saved_view_delete"),
    path("annual/<int:year>.pdf", views.annual_pdf, name="annual_pdf"),
]
