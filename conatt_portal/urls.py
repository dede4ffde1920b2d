from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("accounts.urls")),
    path("records/", include("records.urls")),
    path("reports/", include("indicators.urls")),
    path("estadisticas/", include("indicators.public_urls")),
    path("estimation/", include("estimation.urls")),
    path("api/", include("conatt_portal.api_urls")),
    path("admin/", admin.site.urls),
]

# A request refused before any view (e.g. a body over the upload limit) answers JSON under /api/.
handler400 = "conatt_portal.views.bad_request"

admin.site.site_header = "CONATT"
admin.site.site_title = "CONATT"
