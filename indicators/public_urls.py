from django.urls import path

from . import public_views

app_name = "public"

urlpatterns = [
    path("", public_views.statistics, name="statistics"),
    path("proteccion/", public_views.protection, name="protection"),
    path("mapa.json", public_views.map_data, name="map_data"),
    path("<slug:table>.csv", public_views.table_csv, name="csv"),
]
