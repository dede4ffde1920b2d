from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

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
