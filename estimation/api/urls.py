from django.urls import path

from . import views

urlpatterns = [
    path("estimates/", views.EstimationRunListView.as_view(), name="api-estimate-list"),
    path("estimates/<int:pk>/", views.EstimationRunDetailView.as_view(), name="api-estimate-detail"),
]
