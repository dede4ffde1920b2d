"""Large imports outside the request (issue 20, point 4): the one rule of where a step runs, a real runner process
killed in the middle of writing, and the sweep that closes such jobs and deletes their files."""

from __future__ import annotations

import datetime
import signal
import subprocess
import sys

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from records.imports import runner, samples, services
from records.imports.heartbeat import heartbeat_path
from records.imports.models import ImportJob
from records.models import Application

from .fault_services import wait_for
from .process_support import SharedDatabase

TRANSACTIONAL = pytest.mark.django_db(transaction=True, serialized_rollback=True)
STOPPED = "La importación se detuvo antes de terminar; no se escribió nada. Vuelva a subir el archivo."


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _files(settings) -> list:
    root = settings.MEDIA_ROOT / "private" / "imports"
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _job(cast, rows: int) -> ImportJob:
    upload = SimpleUploadedFile("solicitudes.csv", samples.to_csv(samples.sample_rows(rows)), "text/csv")
    return services.import_job_create(user=cast.officer_a, institution=cast.institution_a, upload=upload)


@TRANSACTIONAL
def test_a_runner_killed_in_the_middle_of_writing_is_swept_failed_and_leaves_no_file(cast, settings, tmp_path):
    """A real runner process (``manage.py import_run``, what the embedded mode starts) is SIGKILLed after writing
    its first chunk inside the import's transaction: nothing is written, the job stays "importing" with its file on
    disk until the sweep finds its heartbeat silent, marks it failed in Spanish and deletes the file."""
    job = _job(cast, services.CHUNK + 100)
    services.import_preview(job_id=job.pk)
    assert services.import_job_start(job=job)
    hold = tmp_path / "import.hold"
    hold.write_text("writing")
    database = SharedDatabase(tmp_path).export()
    process = subprocess.Popen(  # noqa: S603 - our interpreter, fixed arguments
        [sys.executable, "manage.py", "import_run", str(job.pk)],
        cwd=str(settings.BASE_DIR),
        env=database.env(MEDIA_ROOT=str(settings.MEDIA_ROOT), CONATT_TEST_IMPORT_PAUSE_FILE=str(hold)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_for(lambda: (tmp_path / "import.hold.reached").exists(), timeout=120)
        progress = services.progress_read(job=ImportJob.objects.get(pk=job.pk))
        assert progress["phase"] == "writing" and progress["done"] == services.CHUNK  # its heartbeat, seen from here
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=15)
    database.load()

    job.refresh_from_db()
    assert job.status == ImportJob.Status.IMPORTING and Application.all_objects.count() == 0
    assert _files(settings)  # the file with names and document numbers is still there: the sweep's work
    assert runner.import_jobs_sweep() == 0  # its heartbeat is recent: not yet taken for dead
    later = timezone.now() + datetime.timedelta(minutes=settings.IMPORT_HEARTBEAT_MINUTES + 1)
    assert runner.import_jobs_sweep(now=later) == 1
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and job.finished_at is not None
    assert [e["message"] for e in job.errors] == [STOPPED]
    assert _files(settings) == []
    assert Application.all_objects.count() == 0
    assert runner.import_jobs_sweep(now=later) == 0  # idempotent


@TRANSACTIONAL
def test_a_runner_names_its_step_to_every_page_also_while_it_recomputes_after_the_commit(cast, settings, tmp_path):
    """Issue 19, point 3: without Redis a page saw the bar stuck at N/N while the runner committed and recomputed.
    A real runner process confirms an import and is held once its write is committed, at the recompute: the job
    page and its progress URL, served by this process, name the step in Spanish (a moving full bar, no rows to
    count); released, the runner finishes and the job is done."""
    job = _job(cast, 30)
    services.import_preview(job_id=job.pk)
    assert services.import_job_start(job=job)
    hold = tmp_path / "import.hold"
    hold.write_text("recomputing")
    database = SharedDatabase(tmp_path).export()
    process = subprocess.Popen(  # noqa: S603 - our interpreter, fixed arguments
        [sys.executable, "manage.py", "import_run", str(job.pk)],
        cwd=str(settings.BASE_DIR),
        env=database.env(MEDIA_ROOT=str(settings.MEDIA_ROOT), CONATT_TEST_IMPORT_PAUSE_FILE=str(hold)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_for(lambda: (tmp_path / "import.hold.reached").exists(), timeout=120)
        client = cast.client_for(cast.officer_a)
        data = client.get(reverse("records:import_progress", args=[job.pk])).json()
        assert data["running"] is True and data["phase"] == "recomputing" and data["uncounted"] is True
        assert data["phase_label"] == "Recalculando indicadores" and (data["done"], data["total"]) == (30, 30)
        page = client.get(reverse("records:import_preview", args=[job.pk])).content.decode()
        assert "Recalculando indicadores" in page and "progress-bar-animated" in page
        hold.unlink()
        assert process.wait(timeout=120) == 0
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=15)
    database.load()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.count_new == 30
    assert Application.all_objects.filter(institution=cast.institution_a).count() == 30


def test_in_embedded_mode_a_large_file_leaves_the_request_at_once_for_a_runner_process(
    cast, settings, django_capture_on_commit_callbacks
):
    """Without a broker (IMPORT_RUNNER "process"), a file over IMPORT_SYNC_MAX_BYTES is not read within the
    request, from the page or the API: the answer comes at once with the job "previewing" and one runner start
    waiting for the commit (the rule lives in runner.import_step_run, which both call)."""
    from .api_support import token_client

    settings.IMPORT_RUNNER = "process"
    settings.IMPORT_SYNC_MAX_BYTES = 10
    content = samples.to_csv(samples.sample_rows(3))
    client = cast.client_for(cast.officer_a)
    with django_capture_on_commit_callbacks(execute=False) as page_callbacks:
        response = client.post(
            reverse("records:import_upload"),
            {"institution": cast.institution_a.pk, "file": SimpleUploadedFile("a.csv", content, "text/csv")},
        )
    job = ImportJob.objects.latest("id")
    assert response.status_code == 302 and response["Location"] == reverse("records:import_preview", args=[job.pk])
    assert job.status == ImportJob.Status.PREVIEWING and job.rows_total == 0 and len(page_callbacks) == 1
    assert heartbeat_path(job).exists()  # alive from the start, so the sweep leaves it alone
    waiting = client.get(reverse("records:import_progress", args=[job.pk])).json()
    assert (waiting["phase"], waiting["phase_label"]) == ("waiting", "En espera de empezar")

    api, _ = token_client(cast.officer_a)
    with django_capture_on_commit_callbacks(execute=False) as api_callbacks:
        answer = api.post("/api/v1/imports/", {"file": SimpleUploadedFile("b.csv", content, "text/csv")})
    assert answer.status_code == 202 and answer.json()["status"] == "previewing" and len(api_callbacks) == 1


def test_in_embedded_mode_seeing_a_job_page_sweeps_dead_runs(cast, settings):
    """No beat runs in the embedded mode: the job page (and its progress JSON) sweeps. A job whose heartbeat is
    older than IMPORT_HEARTBEAT_MINUTES is failed and its file deleted; a live one is left running."""
    settings.IMPORT_RUNNER = "process"
    dead, alive = _job(cast, 3), _job(cast, 3)
    stale = timezone.now() - datetime.timedelta(minutes=settings.IMPORT_HEARTBEAT_MINUTES + 1)
    ImportJob.objects.filter(pk=dead.pk).update(updated_at=stale)
    client = cast.client_for(cast.officer_a)
    assert client.get(reverse("records:import_progress", args=[alive.pk])).json()["running"] is True
    page = client.get(reverse("records:import_preview", args=[alive.pk]))
    assert page.status_code == 200
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert dead.status == ImportJob.Status.FAILED and not dead.file
    assert alive.status == ImportJob.Status.PREVIEWING and alive.file
    assert _files(settings) == [alive.file.name.rsplit("/", 1)[-1]]
