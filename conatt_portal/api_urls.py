"""The REST API: records (scoped by accounts.access) and indicators (aggregates under disclosure control).

Version 1 lives under /api/v1/; the OpenAPI schema at /api/schema/ (``?lang=es`` or ``?lang=en``) and the
Swagger UI, served from this server (drf-spectacular-sidecar, no CDN), at /api/docs/. The UI is the "split"
variant, whose start-up script is a separate file, because the portal's CSP refuses inline scripts.
"""

from django.urls import include, path, re_path
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
@permission_classes([AllowAny])
def api_not_found(request, *args, **kwargs):
    """Any other path under /api/ answers the API's JSON 404, not the site's HTML page."""
    raise NotFound


urlpatterns = [
    path("v1/", include("records.api.urls")),
    path("v1/", include("indicators.api.urls")),
    path("v1/", include("estimation.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api/swagger_ui.html"),
        name="api-docs",
    ),
    re_path(r"^.*$", api_not_found),
]
