"""The admin pages of accounts. Every write goes through ``accounts.services`` (accounts) and
``accounts.memberships`` (roles), which enforce separation of duties and write the access log; each page shows
only what the admin administers (``access.users_administered_by`` and friends). No page sets a password: there is
no password form at all, only the one-time link sent to the user."""

from typing import cast

from axes.models import AccessAttempt
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Q, Subquery, Sum
from django.forms.models import BaseInlineFormSet
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from conatt_portal.admin import AdminRoleMixin, PortalModelAdmin, ReadOnlyAdmin

from . import access, memberships, services
from .models import AccessEvent, Institution, Membership, User


def _state(membership: Membership) -> str:
    if not membership.active:
        return gettext("withdrawn")
    if membership.confirmed_at is None:
        return gettext("awaiting a second admin")
    return gettext("in effect")


class MembershipInlineForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["institution", "role", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # A role is withdrawn and granted anew, never edited into another (each grant needs its confirmation).
            self.fields["institution"].disabled = True
            self.fields["role"].disabled = True


class MembershipFormSet(BaseInlineFormSet):
    """Refuses, next to the row, what ``memberships.membership_grant`` would refuse (a role granted to oneself,
    an institution the admin does not administer, a duplicate)."""

    by: User | None = None

    def clean(self):
        super().clean()
        for form in self.forms:
            if not form.has_changed() or not form.cleaned_data or form.errors:
                continue
            granting = form.instance.pk is None or ("active" in form.changed_data and form.cleaned_data["active"])
            if not granting:
                continue
            if self.by is None:  # set by MembershipInline.get_formset: without the admin, nothing is granted
                raise PermissionDenied
            try:
                memberships.membership_grant_check(
                    by=self.by,
                    user=self.instance,
                    institution=form.cleaned_data["institution"],
                    role=form.cleaned_data["role"],
                )
            except ValidationError as error:
                form.add_error(None, error)


class MembershipInline(AdminRoleMixin, admin.TabularInline):
    model = Membership
    fk_name = "user"
    form = MembershipInlineForm
    formset = MembershipFormSet
    extra = 1
    can_delete = False
    fields = ["institution", "role", "active", "state", "granted_by", "confirmed_by", "confirmed_at"]
    readonly_fields = ["state", "granted_by", "confirmed_by", "confirmed_at"]

    @admin.display(description=_("state"))
    def state(self, membership):
        return _state(membership) if membership.pk else ""

    def get_queryset(self, request):
        return access.memberships_administered_by(request.user).select_related("institution", "granted_by")

    def get_formset(self, request, obj=None, **kwargs):
        formset = cast("type[MembershipFormSet]", super().get_formset(request, obj, **kwargs))
        formset.by = request.user
        return formset

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "institution":
            kwargs["queryset"] = access.institutions_administered_by(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class UserAccountForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "email", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "email" in self.fields:
            # The one-time password link goes there: an account without an address could not be used.
            self.fields["email"].required = True


@admin.register(User)
class UserAdmin(PortalModelAdmin):
    form = UserAccountForm
    inlines = [MembershipInline]
    list_display = ["username", "full_name", "email", "roles", "lock", "two_factor", "is_active", "last_login"]
    list_filter = ["is_active"]
    search_fields = ["username", "first_name", "last_name", "email"]
    ordering = ["username"]
    fieldsets = (
        (None, {"fields": ("username",)}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Status"), {"fields": ("is_active", "last_login", "date_joined")}),
    )
    readonly_fields = ["last_login", "date_joined"]
    # axes' and django-otp's own admin pages stay closed to the admin role (they show addresses, usernames and
    # device secrets); these actions are what an admin needs from them, each audited.
    actions = ["send_password_link", "unlock_login", "reset_two_factor"]

    def get_queryset(self, request):
        threshold = timezone.now() - settings.AXES_COOLOFF_TIME
        attempts = AccessAttempt.objects.filter(username=OuterRef("username"), attempt_time__gte=threshold)
        return (
            access.users_administered_by(request.user)
            .prefetch_related("memberships__institution")
            .annotate(
                account_failures=Subquery(
                    attempts.values("username").annotate(total=Sum("failures_since_start")).values("total")[:1]
                ),
                pair_failures=Subquery(attempts.order_by("-failures_since_start").values("failures_since_start")[:1]),
                has_two_factor=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
            )
        )

    def get_readonly_fields(self, request, obj=None):
        # A username is who did what in the audit: it is set once.
        return [*self.readonly_fields, "username"] if obj else self.readonly_fields

    def has_change_permission(self, request, obj=None) -> bool:
        return access.can_administer(request.user) and (obj is None or access.can_manage_user(request.user, obj))

    def has_delete_permission(self, request, obj=None) -> bool:
        # Accounts are deactivated, never deleted: the audit keeps who did what.
        return False

    @admin.display(description=_("name"))
    def full_name(self, user):
        return user.get_full_name()

    @admin.display(description=_("roles"))
    def roles(self, user):
        held = [
            f"{m.get_role_display()} · {m.institution.code}"
            + ("" if m.confirmed_at else f" ({gettext('awaiting a second admin')})")
            for m in user.memberships.all()
            if m.active
        ]
        return "; ".join(held) or "—"

    @admin.display(description=_("login lock"))
    def lock(self, user):
        if (user.account_failures or 0) >= settings.CONATT_AXES_USERNAME_FAILURE_LIMIT:
            return gettext("locked")
        if (user.pair_failures or 0) >= settings.AXES_FAILURE_LIMIT:
            return gettext("locked from one address")
        return "—"

    @admin.display(description=_("two-factor"), boolean=True)
    def two_factor(self, user):
        return user.has_two_factor

    def save_model(self, request, obj, form, change):
        ip = access.client_ip(request)
        if not change:
            services.user_create(by=request.user, user=obj, site_url=request.build_absolute_uri("/"), ip=ip)
            return
        changes = {field: form.cleaned_data[field] for field in form.changed_data}
        services.user_update(by=request.user, user=obj, changes=changes, ip=ip)

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        ip = access.client_ip(request)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for row in formset.forms:
            if not row.has_changed() or not row.cleaned_data:
                continue
            data, membership = row.cleaned_data, row.instance
            if membership.pk is None:
                granted = memberships.membership_grant(
                    by=request.user, user=form.instance, institution=data["institution"], role=data["role"], ip=ip
                )
                formset.new_objects.append(granted)
            elif "active" in row.changed_data:
                if data["active"]:
                    memberships.membership_grant(
                        by=request.user, user=form.instance, institution=membership.institution,
                        role=membership.role, ip=ip,
                    )  # fmt: skip
                else:
                    memberships.membership_deactivate(by=request.user, membership=membership, ip=ip)
                formset.changed_objects.append((membership, ["active"]))
        return None

    def _each(self, request, queryset, call) -> tuple[int, int]:
        """Run ``call(user)`` for each selected account; refusals are shown, not raised. (done, total)."""
        done = total = 0
        for user in queryset:
            try:
                total += call(user)
                done += 1
            except (PermissionDenied, ValidationError) as error:
                reason = "; ".join(error.messages) if isinstance(error, ValidationError) else gettext("not allowed")
                self.message_user(request, f"{user.username}: {reason}", messages.ERROR)
        return done, total

    @admin.action(description=_("Send a one-time password link to the selected users (resets their password)"))
    def send_password_link(self, request, queryset):
        ip, site_url = access.client_ip(request), request.build_absolute_uri("/")
        done, _removed = self._each(
            request,
            queryset,
            lambda user: services.user_password_reset(by=request.user, user=user, site_url=site_url, ip=ip),
        )
        if done:
            self.message_user(
                request,
                ngettext(
                    "A one-time password link was sent to %(count)d user; their old password and two-factor device "
                    "no longer work.",
                    "A one-time password link was sent to %(count)d users; their old passwords and two-factor "
                    "devices no longer work.",
                    done,
                )
                % {"count": done},
                messages.SUCCESS,
            )

    @admin.action(description=_("Lift the login lockout of the selected users"))
    def unlock_login(self, request, queryset):
        ip = access.client_ip(request)
        count, removed = self._each(
            request, queryset, lambda user: services.user_login_unlock(by=request.user, user=user, ip=ip)
        )
        self.message_user(
            request,
            ngettext(
                "Login lockout lifted for %(count)d user (%(removed)d lockout records removed).",
                "Login lockout lifted for %(count)d users (%(removed)d lockout records removed).",
                count,
            )
            % {"count": count, "removed": removed},
            messages.SUCCESS,
        )

    @admin.action(description=_("Reset the two-factor devices of the selected users"))
    def reset_two_factor(self, request, queryset):
        ip = access.client_ip(request)
        count, removed = self._each(
            request, queryset, lambda user: services.user_two_factor_reset(by=request.user, user=user, ip=ip)
        )
        self.message_user(
            request,
            ngettext(
                "Two-factor devices reset for %(count)d user (%(removed)d devices removed); they enrol again at "
                "their next page.",
                "Two-factor devices reset for %(count)d users (%(removed)d devices removed); they enrol again at "
                "their next page.",
                count,
            )
            % {"count": count, "removed": removed},
            messages.SUCCESS,
        )


@admin.register(Institution)
class InstitutionAdmin(PortalModelAdmin):
    list_display = ["code", "name_es", "kind", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["code", "name_es", "name_en"]


class AwaitingConfirmationFilter(admin.SimpleListFilter):
    title = _("confirmation")
    parameter_name = "awaiting"

    def lookups(self, request, model_admin):
        return [("yes", _("awaiting a second admin"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(active=True, confirmed_at__isnull=True)
        return queryset


@admin.register(Membership)
class MembershipAdmin(PortalModelAdmin):
    """Roles are granted on the user's page; here a second admin confirms them, or an admin withdraws them."""

    list_display = [
        "user",
        "email",
        "institution",
        "role",
        "state",
        "granted_by",
        "confirmed_by",
        "confirmed_at",
        "created_at",
    ]
    list_filter = [AwaitingConfirmationFilter, "role", "institution", "active"]
    search_fields = ["user__username"]
    actions = ["confirm", "withdraw"]

    def get_queryset(self, request):
        return access.memberships_administered_by(request.user).select_related(
            "user", "institution", "granted_by", "confirmed_by"
        )

    @admin.display(description=_("state"))
    def state(self, membership):
        return _state(membership)

    @admin.display(description=_("e-mail address"))
    def email(self, membership):
        # The second admin confirms a person and the address their password links go to.
        return membership.user.email

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def _each(self, request, queryset, call) -> int:
        done = 0
        for membership in queryset:
            try:
                call(membership)
                done += 1
            except (PermissionDenied, ValidationError) as error:
                reason = "; ".join(error.messages) if isinstance(error, ValidationError) else gettext("not allowed")
                self.message_user(request, f"{membership}: {reason}", messages.ERROR)
        return done

    @admin.action(description=_("Confirm the selected roles (as the second admin)"))
    def confirm(self, request, queryset):
        ip = access.client_ip(request)
        done = self._each(
            request, queryset, lambda m: memberships.membership_confirm(by=request.user, membership=m, ip=ip)
        )
        if done:
            message = ngettext("%(count)d role confirmed.", "%(count)d roles confirmed.", done) % {"count": done}
            self.message_user(request, message, messages.SUCCESS)

    @admin.action(description=_("Withdraw the selected roles"))
    def withdraw(self, request, queryset):
        ip = access.client_ip(request)
        done = self._each(
            request, queryset, lambda m: memberships.membership_deactivate(by=request.user, membership=m, ip=ip)
        )
        if done:
            message = ngettext("%(count)d role withdrawn.", "%(count)d roles withdrawn.", done) % {"count": done}
            self.message_user(request, message, messages.SUCCESS)


@admin.register(AccessEvent)
class AccessEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "user", "action", "object_type", "object_id", "detail", "ip_address"]
    list_filter = ["action"]
    date_hierarchy = "at"

    def get_queryset(self, request):
        events = super().get_queryset(request).select_related("user")
        if access.is_system_admin(request.user):
            return events
        # An institutional admin reads what their institution's people did and what was done to their accounts.
        people = access.users_administered_by(request.user)
        ids = [str(pk) for pk in people.values_list("pk", flat=True)]
        return events.filter(Q(user__in=people) | Q(object_type="accounts.user", object_id__in=ids))
