from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import defaults

from accounts import access
from accounts.models import Role

_HOME_TEMPLATES: dict[str, str] = {
    Role.OFFICER: "home/officer.html",
    Role.COORDINATOR: "home/coordinator.html",
    Role.ANALYST: "home/analyst.html",
    Role.ADMIN: "home/admin.html",
}


@login_required
def home(request):
    """Each role lands on the page of its own work; a user without a membership is told whom to ask."""
    role = access.home_role(request.user)
    if role is None:
        return render(request, "home/no_role.html", status=403)
    context = {"role": role, "institutions": access.institutions(request.user, role)}
    context.update(_home_context(request.user, role))
    return render(request, _HOME_TEMPLATES[role], context)


def _home_context(user, role: str) -> dict:
    from records import selectors

    if role == Role.OFFICER:
        return {"summary": selectors.officer_summary(user=user)}
    if role == Role.COORDINATOR:
        return {"summary": selectors.queue_summary(user=user)}
    return {}


def healthz(request):
    """For the load balancer: the process answers and the database is reachable. Reveals nothing else."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def bad_request(request, exception):
    """The 400 of a request Django refuses before any view runs (a ``SuspiciousOperation``: a body over
    ``DATA_UPLOAD_MAX_MEMORY_SIZE``, too many fields, ...). API clients get the API's error shape, as its schema
    documents, in the user's language; pages keep Django's own page. The refused value is never quoted back."""
    if not request.path.startswith("/api/"):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        message = _("The request body is larger than the limit of %(megabytes)s MB.") % {
            "megabytes": settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
        }
    else:
        message = _("The request was refused: it is malformed or too large.")
    return JsonResponse({"detail": message}, status=400)
