from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.utils.translation import gettext_lazy as _

from conatt_portal.forms import AccessibleFormMixin


class LoginForm(AccessibleFormMixin, AuthenticationForm):
    pass


class PortalPasswordChangeForm(AccessibleFormMixin, PasswordChangeForm):
    pass


class TokenForm(AccessibleFormMixin, forms.Form):
    otp_token = forms.CharField(
        label=_("Six-digit code from your authenticator app"),
        min_length=6,
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )
