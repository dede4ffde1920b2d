"""Users, institutions and the memberships that give a user a role in an institution."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person who logs in. What they may see comes from their memberships, never from Django's staff flags
    alone: an admin reads no victim's data by virtue of being admin (separation of duties)."""

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")


class Institution(models.Model):
    """An institution that submits applications (reporting) or reviews them (coordination: ERI, CONATT)."""

    class Kind(models.TextChoices):
        REPORTING = "reporting", _("Reporting institution")
        COORDINATION = "coordination", _("Coordination body")

    code = models.CharField(_("code"), max_length=20, unique=True)
    name_es = models.CharField(_("name (Spanish)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.REPORTING)
    active = models.BooleanField(_("active"), default=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    # The group that object permissions are granted to when a case is shared with this institution.
    group = models.OneToOneField("auth.Group", null=True, blank=True, on_delete=models.SET_NULL, editable=False)

    class Meta:
        ordering = ["code"]
        verbose_name = _("institution")
        verbose_name_plural = _("institutions")

    def __str__(self) -> str:
        return self.code

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "es").startswith("en") else self.name_es


class Role(models.TextChoices):
    OFFICER = "officer", _("Institution officer")
    COORDINATOR = "coordinator", _("ERI / CONATT coordinator")
    ANALYST = "analyst", _("Analyst")
    ADMIN = "admin", _("Administrator")


# Roles that take effect only when a second admin confirms them (separation of duties): the two that read
# cases and identity data, and the admin role itself, since an admin who could make a second admin alone would
# have that accomplice confirm whatever they grant. The analyst role (protected aggregates) takes effect at once.
ROLES_NEEDING_SECOND_ADMIN = frozenset({Role.OFFICER, Role.COORDINATOR, Role.ADMIN})


class Membership(models.Model):
    """A user's role in one institution. A user may hold several. A membership grants something only while it
    is active and confirmed: ``confirmed_at`` is set at grant for roles outside ``ROLES_NEEDING_SECOND_ADMIN``,
    and for the others when a second admin (neither the one who granted it nor its holder) confirms it
    (``accounts.memberships``). A new row is unconfirmed by default, so a membership written by any other path
    grants nothing (fail closed)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("institution")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("granted by"),
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("confirmed by"),
    )
    confirmed_at = models.DateTimeField(_("in effect since"), null=True, blank=True)

    class Meta:
        ordering = ["user__username", "institution__code", "role"]
        constraints = [
            models.UniqueConstraint(fields=["user", "institution", "role"], name="membership_unique_role"),
        ]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.user} · {self.institution} · {self.get_role_display()}"

    @property
    def is_pending(self) -> bool:
        """Active but still waiting for a second admin's confirmation."""
        return self.active and self.confirmed_at is None


class AccessEvent(models.Model):
    """An append-only audit row: who did what to which object, when. It never holds the data itself (no names,
    no document numbers), only ids and the kind of action. On PostgreSQL the portal's role may only insert."""

    class Action(models.TextChoices):
        IDENTITY_VIEW = "identity_view", _("Viewed identity data")
        EXPORT = "export", _("Exported records")
        IDENTITY_EXPORT = "identity_export", _("Exported identity data")
        ACCESS_DENIED = "access_denied", _("Access denied")
        LOGIN = "login", _("Logged in")
        LOGIN_FAILED = "login_failed", _("Failed login")
        LOGOUT = "logout", _("Logged out")
        GRANT = "grant", _("Granted access to a case")
        REVOKE = "revoke", _("Revoked access to a case")
        IMPORT = "import", _("Imported records")
        LOGIN_UNLOCK = "login_unlock", _("Lifted a login lockout")
        TWO_FACTOR_RESET = "two_factor_reset", _("Reset two-factor devices")
        MEMBERSHIP_GRANT = "membership_grant", _("Granted a role")
        MEMBERSHIP_CONFIRM = "membership_confirm", _("Confirmed a role")
        MEMBERSHIP_DEACTIVATE = "membership_deactivate", _("Withdrew a role")
        USER_CREATE = "user_create", _("Created a user account")
        USER_CHANGE = "user_change", _("Changed a user account")
        PASSWORD_LINK = "password_link", _("Sent a one-time password link")
        PASSWORD_SET = "password_set", _("Set a password from a one-time link")
        CASE_NOT_FOUND = "case_not_found", _("Asked for a case outside their access")

    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    # PROTECT: the audit is append-only (database triggers refuse UPDATE and DELETE), so a user with history is
    # deactivated, never deleted; deleting them would have to rewrite who did what.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("user"),
    )
    # Failed logins have no user; the attempted username is not stored (it may be a mistyped password).
    action = models.CharField(_("action"), max_length=30, choices=Action.choices)
    object_type = models.CharField(_("object type"), max_length=50, blank=True)
    object_id = models.CharField(_("object id"), max_length=50, blank=True)
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["object_type", "object_id"])]
        verbose_name = _("access event")
        verbose_name_plural = _("access events")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user_id} {self.action} {self.object_type}:{self.object_id}"


class ApiToken(models.Model):
    """A personal API token. The secret is shown to its owner once, at creation; only its SHA-256 hash is kept,
    with a short public prefix to find the row. Every token expires (at most ``API_TOKEN_MAX_DAYS`` after it
    was made) and can be revoked; an expired or revoked token authenticates nothing. A token acts with its
    owner's memberships at the time of each request, so removing a membership takes effect at once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        # The prefix only: it identifies the token in lists and logs but does not authenticate.
        return f"{self.prefix}… ({self.user_id})"

    def is_active_at(self, moment) -> bool:
        return self.revoked_at is None and self.expires_at > moment
