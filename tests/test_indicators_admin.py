"""The run history in the admin, and the button that starts a full rebuild."""

from datetime import date

import pytest
from django.test import override_settings
from django.urls import reverse

from indicators.models import RecomputeRun
from records.models import Status

from .indicator_factories import application

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:indicators_recomputerun_changelist"
REBUILD = "admin:indicators_recomputerun_rebuild"


@pytest.mark.parametrize("who", ["officer_a", "coordinator_a", "analyst_a", "nobody", "anonymous"])
@pytest.mark.parametrize("url", [CHANGELIST, REBUILD])
def test_only_admins_reach_the_run_history(cast, who, url):
    client = cast.client_for(cast.users()[who])
    response = client.post(reverse(url)) if url == REBUILD else client.get(reverse(url))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]
    assert not RecomputeRun.objects.exists()


@override_settings(CELERY_TASK_ALWAYS_EAGER=True)
def test_admin_sees_runs_and_starts_a_full_rebuild(cast):
    application(institution=cast.institution_a, received_on=date(2024, 2, 5), status=Status.SUBMITTED)
    client = cast.client_for(cast.admin_a)
    assert client.get(reverse(REBUILD)).status_code == 405
    response = client.post(reverse(REBUILD), follow=True)
    assert response.status_code == 200
    run = RecomputeRun.objects.get()
    assert run.kind == RecomputeRun.Kind.FULL and run.outcome == RecomputeRun.Outcome.SUCCESS
    assert run.trigger == f"admin:{cast.admin_a.pk}"
    page = client.get(reverse(CHANGELIST))
    assert page.status_code == 200
    assert reverse(REBUILD).encode() in page.content
    detail = client.get(reverse("admin:indicators_recomputerun_change", args=[run.pk]))
    assert detail.status_code == 200
    assert client.post(reverse("admin:indicators_recomputerun_delete", args=[run.pk])).status_code == 403
