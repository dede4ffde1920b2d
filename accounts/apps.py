from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts and access")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import signals  # noqa: F401  (connects the login audit receivers)
        from .audit import reinstall_after_migrate

        # The audit table's append-only triggers survive table rebuilds and test flushes (see accounts.audit).
        post_migrate.connect(reinstall_after_migrate, sender=self, dispatch_uid="accounts_audit_triggers")
