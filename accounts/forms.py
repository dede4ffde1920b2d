from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, SetPasswordForm
from django.utils.translation import gettext_lazy as _

from conatt_portal.forms import AccessibleFormMixin, choice_field


class LoginForm(AccessibleFormMixin, AuthenticationForm):
    pass


class PortalPasswordChangeForm(AccessibleFormMixin, PasswordChangeForm):
    pass


class PortalSetPasswordForm(AccessibleFormMixin, SetPasswordForm):
    pass


class TokenForm(AccessibleFormMixin, forms.Form):
    otp_token = forms.CharField(
        label=_("Six-digit code from your authenticator app"),
        min_length=6,
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


_TOKEN_DAYS = (7, 30, 90, 180, 365)


class ApiTokenForm(AccessibleFormMixin, forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        help_text=_("What the token is for, e.g. 'case system sync'."),
    )
    days = forms.TypedChoiceField(label=_("Valid for"), coerce=int, initial=90)

    def __init__(self, *args, max_days: int, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = [d for d in _TOKEN_DAYS if d <= max_days] or [max_days]
        choice_field(self, "days").choices = [(d, _("%(days)d days") % {"days": d}) for d in allowed]
