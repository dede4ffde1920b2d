from django.urls import include, path  # noqa: F401

app_name = "records"

urlpatterns: list = []
urlpatterns.append(path("import/", include("records.imports.urls")))
