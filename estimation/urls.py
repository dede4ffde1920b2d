from django.urls import path

from . import views

app_name = "estimation"

urlpatterns = [
    path("", views.page, name="page"),
    path("run/", views.run, name="run"),
    path("runs/<int:pk>/progress/", views.progress, name="progress"),
    path("runs/<int:pk>/export.<str:fmt>", views.export, name="export"),
]
