"""The import preview and confirm steps through the API: the dry run writes nothing and reports errors by row
and column; confirm writes all rows or none, once; the institution is the officer's own; other users' jobs
answer 404 and other roles 403."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from rest_framework.test import APIClient

from accounts.models import AccessEvent
from records.imports import samples
from records.imports.models import ImportJob
from records.models import Application

from .api_support import fresh_throttles, token_client
from .cast import confirmed_membership

URL = "/api/v1/imports/"


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    fresh_throttles()


def _upload(client, data: bytes, name: str = "solicitudes.csv", **extra):
    return client.post(URL, {"file": SimpleUploadedFile(name, data), **extra}, format="multipart")


def test_preview_then_confirm_then_nothing_new(cast):
    client, _ = token_client(cast.officer_a)
    rows = samples.sample_rows(5)
    preview = _upload(client, samples.to_csv(rows))
    assert preview.status_code == 201, preview.json()
    job = preview.json()
    assert (job["status"], job["count_new"], job["error_count"], job["institution"]) == ("previewed", 5, 0, "INAMU")
    assert job["can_confirm"] is True
    assert Application.all_objects.count() == 0  # the dry run writes nothing
    confirmed = client.post(f"{URL}{job['id']}/confirm/")
    assert confirmed.status_code == 200
    assert (confirmed.json()["status"], confirmed.json()["count_new"]) == ("done", 5)
    assert Application.all_objects.filter(institution=cast.institution_a).count() == 5
    assert AccessEvent.objects.filter(action=AccessEvent.Action.IMPORT, object_id=str(job["id"])).exists()
    again = client.post(f"{URL}{job['id']}/confirm/")
    assert again.status_code == 409
    second = _upload(client, samples.to_csv(rows)).json()
    assert client.post(f"{URL}{second['id']}/confirm/").json()["count_new"] == 0
    assert Application.all_objects.count() == 5


def test_errors_by_row_and_column_and_no_confirm(cast):
    client, _ = token_client(cast.officer_a)
    rows = samples.sample_rows(4)
    rows[2]["sexo"] = "Desconocido"
    with translation.override("en"):
        response = _upload(client, samples.to_csv(rows), HTTP_ACCEPT_LANGUAGE="en")
    body = response.json()
    assert body["status"] == "invalid" and body["error_count"] == 1
    error = body["errors"][0]
    assert (error["row"], error["column"]) == (4, "sexo")
    assert client.post(f"{URL}{body['id']}/confirm/").status_code == 409
    assert Application.all_objects.count() == 0


def test_bad_file_is_refused(cast):
    client, _ = token_client(cast.officer_a)
    response = _upload(client, b"MZ\x90\x00binary", "virus.exe")
    assert response.status_code == 400
    assert "file" in response.json()
    assert not ImportJob.objects.exists()


def test_officer_of_several_institutions_names_one_of_theirs(cast):
    confirmed_membership(user=cast.officer_a, institution=cast.institution_b, role="officer")
    client, _ = token_client(cast.officer_a)
    data = samples.to_csv(samples.sample_rows(2))
    assert _upload(client, data).status_code == 400
    assert _upload(client, data, institution="OIJ").status_code == 400
    chosen = _upload(client, data, institution="PANI")
    assert chosen.status_code == 201
    assert chosen.json()["institution"] == "PANI"


def test_another_users_job_is_404(cast):
    client, _ = token_client(cast.officer_a)
    job = _upload(client, samples.to_csv(samples.sample_rows(2))).json()
    other, _ = token_client(cast.officer_b)
    assert other.get(f"{URL}{job['id']}/").status_code == 404
    assert other.post(f"{URL}{job['id']}/confirm/").status_code == 404
    assert other.post(f"{URL}{job['id']}/cancel/").status_code == 404
    assert other.get(URL).json()["results"] == []
    assert Application.all_objects.count() == 0


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("coordinator_a", 403),
        ("analyst_a", 403),
        ("admin_a", 403),
        ("nobody", 403),
        ("anonymous", 401),
        ("officer_b", 200),
    ],
)
def test_import_matrix(cast, who, expected):
    user = cast.users()[who]
    client = APIClient() if user is None else token_client(user)[0]
    assert client.get(URL).status_code == expected
    upload = _upload(client, samples.to_csv(samples.sample_rows(1)))
    assert upload.status_code == (201 if expected == 200 else expected)


def test_cancel_writes_nothing(cast):
    client, _ = token_client(cast.officer_a)
    job = _upload(client, samples.to_csv(samples.sample_rows(2))).json()
    cancelled = client.post(f"{URL}{job['id']}/cancel/")
    assert cancelled.json()["status"] == "cancelled"
    assert client.post(f"{URL}{job['id']}/confirm/").status_code == 409
    assert Application.all_objects.count() == 0


@pytest.fixture
def eager_celery(eager_celery, settings):
    """The worker runs in-process (tests/conftest.py::eager_celery, which puts task_always_eager back), also when
    REDIS_URL makes tasks go to a broker, and large imports go to Celery also without REDIS_URL, whose embedded
    default is a runner process (tests/test_import_runner.py)."""
    settings.IMPORT_RUNNER = "celery"
    return eager_celery


def test_large_files_go_to_a_worker(cast, settings, django_capture_on_commit_callbacks, eager_celery):
    settings.IMPORT_SYNC_MAX_BYTES = 10
    client, _ = token_client(cast.officer_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, samples.to_csv(samples.sample_rows(3)))
    assert response.status_code == 202
    assert response.json()["status"] == "previewing"
    # The task ran in-process (eager): after commit the job has been checked.
    polled = client.get(f"{URL}{response.json()['id']}/").json()
    assert polled["status"] == "previewed" and polled["count_new"] == 3
    with django_capture_on_commit_callbacks(execute=True):
        confirm = client.post(f"{URL}{response.json()['id']}/confirm/")
    assert confirm.status_code == 202
    assert client.get(f"{URL}{response.json()['id']}/").json()["status"] == "done"
    assert Application.all_objects.count() == 3
