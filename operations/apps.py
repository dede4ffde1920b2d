from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperationsConfig(AppConfig):
    """What the people who run the portal do to the whole database: backup and restore (``manage.py backup``,
    ``manage.py restore``). No models, pages or API: nothing here belongs to accounts, records or indicators."""

    name = "operations"
    verbose_name = _("Operations")
