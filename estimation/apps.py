from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EstimationConfig(AppConfig):
    name = "estimation"
    verbose_name = _("Estimation of unidentified victims")
    default_auto_field = "django.db.models.BigAutoField"
