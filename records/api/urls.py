from django.urls import path
from rest_framework.routers import SimpleRouter

from . import imports, views

router = SimpleRouter()
router.register("applications", views.ApplicationViewSet, basename="api-application")
router.register("people", views.PersonViewSet, basename="api-person")
router.register("decisions", views.DecisionViewSet, basename="api-decision")
router.register("codes", views.CodeViewSet, basename="api-code")
router.register("provinces", views.ProvinceViewSet, basename="api-province")
router.register("cantons", views.CantonViewSet, basename="api-canton")
router.register("districts", views.DistrictViewSet, basename="api-district")
router.register("languages", views.LanguageViewSet, basename="api-language")
router.register("imports", imports.ImportJobViewSet, basename="api-import")

urlpatterns = [
    path("code-lists/", views.CodeListView.as_view(), name="api-code-lists"),
    path("countries/", views.CountryListView.as_view(), name="api-countries"),
    *router.urls,
]
