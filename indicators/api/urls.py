from django.urls import path

from . import views

urlpatterns = [
    path("indicators/", views.CatalogueView.as_view(), name="api-indicators"),
    path("indicators/dimensions/<str:name>/", views.DimensionValuesView.as_view(), name="api-indicator-dimension"),
    path("indicators/by-year/", views.ByYearView.as_view(), name="api-indicators-by-year"),
    path("indicators/crosstab/", views.CrosstabView.as_view(), name="api-indicators-crosstab"),
    path("indicators/trend/", views.TrendView.as_view(), name="api-indicators-trend"),
    path("indicators/trend-headline/", views.TrendHeadlineView.as_view(), name="api-indicators-trend-headline"),
    path("indicators/reports/<slug:slug>/", views.ReportView.as_view(), name="api-indicators-report"),
]
