from django.urls import path
from rest_framework.routers import SimpleRouter

from . import imports, reference, views

router = SimpleRouter()
router.register("applications", views.ApplicationViewSet, basename="api-application")
router.register("people", views.PersonViewSet, basename="api-person")
router.register("decisions", views.DecisionViewSet, basename="api-decision")
router.register("codes", reference.CodeViewSet, basename="api-code")
router.register("provinces", reference.ProvinceViewSet, basename="api-province")
router.register("cantons", reference.CantonViewSet, basename="api-canton")
router.register("districts", reference.DistrictViewSet, basename="api-district")
router.register("languages", reference.LanguageViewSet, basename="api-language")
router.register("imports", imports.ImportJobViewSet, basename="api-import")

urlpatterns = [
    path("code-lists/", reference.CodeListView.as_view(), name="api-code-lists"),
    path("countries/", reference.CountryListView.as_view(), name="api-countries"),
    *router.urls,
]
