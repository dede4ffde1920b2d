"""The REST API: records (scoped by accounts.access) and indicators (aggregates under disclosure control).

Version 1 lives under /api/v1/; the OpenAPI schema at /api/schema/ (``?lang=es`` or ``?lang=en``) and the
Swagger UI, served from this server (drf-spectacular-sidecar, no CDN), at /api/docs/.
"""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("v1/", include("records.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
