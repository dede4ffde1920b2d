from base64 import b32encode
from io import BytesIO

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login

from . import access, selectors, services, tokens
from .forms import ApiTokenForm, LoginForm, PortalPasswordChangeForm, PortalSetPasswordForm, TokenForm
from .models import ApiToken


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    form_class = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    form_class = PortalPasswordChangeForm
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        messages.success(self.request, _("Your password was changed."))
        return super().form_valid(form)


class PasswordSetView(auth_views.PasswordResetConfirmView):
    """The one-time link of a new account or of an admin's reset: the holder chooses their password. The link
    stops working once used (Django's token is bound to the password hash); the user then logs in and, where
    their role needs it, enrols their own second factor."""

    template_name = "accounts/password_set.html"
    form_class = PortalSetPasswordForm
    success_url = reverse_lazy("accounts:login")
    post_reset_login = False

    def form_valid(self, form):
        response = super().form_valid(form)
        services.user_password_set_audit(user=form.user, ip=access.client_ip(self.request))
        messages.success(self.request, _("Your password was set. Log in with it."))
        return response


def lockout(request, credentials=None, *args, **kwargs):
    """What django-axes shows a locked-out login: a plain explanation, in the user's language."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "accounts/locked_out.html", {"minutes": minutes}, status=429)


def _safe_next(request) -> str:
    target = request.GET.get("next") or request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("home")


def _qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request):
    """Enrol a TOTP device: show the QR code (and the key for manual entry), confirm with one code."""
    if selectors.two_factor_enrolled(user=request.user):
        return redirect("accounts:two_factor_verify")
    device = services.two_factor_device_pending(user=request.user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.two_factor_confirm(user=request.user, device=device, code=form.cleaned_data["otp_token"]):
            otp_login(request, device)
            messages.success(request, _("Two-factor authentication is now active for your account."))
            return redirect(_safe_next(request))
        form.add_error("otp_token", _("That code is not valid. Check the time on your phone and try again."))
    context = {
        "form": form,
        # Built by the qrcode library from our own data: safe to insert as markup.
        "qr_svg": mark_safe(_qr_svg(device.config_url)),  # noqa: S308
        "secret": b32encode(device.bin_key).decode(),
        "next": request.GET.get("next", ""),
    }
    return render(request, "accounts/two_factor_setup.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request):
    """Ask for the current TOTP code after the password."""
    if request.user.is_verified():
        return redirect(_safe_next(request))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        for device in selectors.confirmed_devices(user=request.user):
            if device.verify_token(form.cleaned_data["otp_token"]):
                otp_login(request, device)
                return redirect(_safe_next(request))
        form.add_error("otp_token", _("That code is not valid. Check the time on your phone and try again."))
    return render(request, "accounts/two_factor_verify.html", {"form": form, "next": request.GET.get("next", "")})


@access.require(access.can_use_api)
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    """List the user's API tokens and create one. A new key is shown once, in the response to the POST that
    made it (never in a URL, the session or a message), and only its hash is kept."""
    form = ApiTokenForm(request.POST or None, max_days=tokens.max_days())
    new_key = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                token, new_key = tokens.api_token_create(
                    user=request.user, name=form.cleaned_data["name"], days=form.cleaned_data["days"]
                )
            except ValidationError as error:
                for field, messages_ in error.message_dict.items():
                    for message in messages_:
                        form.add_error(field if field in form.fields else None, message)
                status = 400
            else:
                form = ApiTokenForm(max_days=tokens.max_days())
        else:
            status = 400
    context = {
        "form": form,
        "new_key": new_key,
        "tokens": selectors.api_tokens_of(user=request.user),
        "now": timezone.now(),
    }
    return render(request, "accounts/tokens.html", context, status=status)


@access.require(access.can_use_api)
@require_http_methods(["POST"])
def api_token_revoke(request, pk: int):
    try:
        token = tokens.api_token_revoke(user=request.user, token_id=pk)
    except ApiToken.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("The token %(prefix)s... was revoked.") % {"prefix": token.prefix})
    return redirect("accounts:api_tokens")
