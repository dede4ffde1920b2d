"""The import and export pages: who may reach them (URL x role), the officer's whole journey from template to
"0 nuevas", large files through Celery with progress that survives a reload, cancellation, and exports that carry
identity data only for those entitled, each logged."""

import csv
import io

import pytest
from django.test import override_settings
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import AccessEvent
from records.imports import samples, services
from records.imports.models import ImportJob
from records.models import Application, Status

# Messages are checked by content here; their Spanish is checked with the catalogue.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


OFFICER_ONLY = {
    "officer_a": 200,
    "officer_b": 200,
    "coordinator_a": 403,
    "coordinator_b": 403,
    "analyst_a": 403,
    "analyst_b": 403,
    "admin_a": 403,
    "admin_b": 403,
    "nobody": 403,
    "anonymous": 302,
}
OWN_JOB = {**OFFICER_ONLY, "officer_b": 404}
EXPORTERS = {**OFFICER_ONLY, "coordinator_a": 200, "coordinator_b": 200}


def upload(client, data: bytes, name: str = "solicitudes.csv", **extra):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(reverse("records:import_upload"), {"file": SimpleUploadedFile(name, data), **extra})


def job_of(cast, rows=None) -> ImportJob:
    client = cast.client_for(cast.officer_a)
    upload(client, samples.to_csv(rows or samples.sample_rows(3)))
    return ImportJob.objects.latest("id")


@pytest.mark.parametrize(("who", "expected"), sorted(OFFICER_ONLY.items()))
@pytest.mark.parametrize("url", ["records:import_upload", "template_xlsx", "template_csv"])
def test_officer_pages_matrix(cast, who, expected, url):
    target = (
        reverse("records:import_template", args=[url.split("_")[1]]) if url.startswith("template") else reverse(url)
    )
    response = cast.client_for(cast.users()[who]).get(target)
    assert response.status_code == expected
    if expected == 302:
        assert reverse("accounts:login") in response["Location"]


@pytest.mark.parametrize(("who", "expected"), sorted(OWN_JOB.items()))
@pytest.mark.parametrize(
    ("name", "method"),
    [("import_preview", "get"), ("import_progress", "get"), ("import_confirm", "post"), ("import_cancel", "post")],
)
def test_job_pages_matrix(cast, who, expected, name, method):
    job = job_of(cast)
    response = getattr(cast.client_for(cast.users()[who]), method)(reverse(f"records:{name}", args=[job.pk]))
    if expected == 200 and method == "post":
        expected = 302  # the owner is redirected back to the job or the upload page
    assert response.status_code == expected


@pytest.mark.parametrize(("who", "expected"), sorted(EXPORTERS.items()))
def test_export_matrix(cast, who, expected):
    response = cast.client_for(cast.users()[who]).get(reverse("records:export_applications"))
    assert response.status_code == expected


def test_another_officers_job_is_not_found_even_in_the_same_institution(cast):
    from tests.cast import make_user

    job = job_of(cast)
    colleague = make_user("officer.inamu.2", institution=cast.institution_a, role="officer")
    response = cast.client_for(colleague).get(reverse("records:import_preview", args=[job.pk]))
    assert response.status_code == 404


def test_template_xlsx_lists_codes_and_districts(cast):
    response = cast.client_for(cast.officer_a).get(reverse("records:import_template", args=["xlsx"]))
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    assert workbook.sheetnames[:1] == ["solicitudes"] and {"codigos", "distritos", "paises"} <= set(workbook.sheetnames)
    headers = [c.value for c in next(workbook["solicitudes"].iter_rows())]
    assert headers == samples.headers()
    codes = list(workbook["codigos"].iter_rows(values_only=True))
    assert ("sexo", "F", "Mujer", "Female", "") in [tuple(r) for r in codes] or any(
        r[0] == "sexo" and r[1] == "F" for r in codes
    )
    assert len(list(workbook["distritos"].iter_rows())) > 400
    full = load_workbook(io.BytesIO(response.content))  # data validations are not read in read-only mode
    lists = {str(v.sqref): v.formula1 for v in full["solicitudes"].data_validations.dataValidation}
    sex_column = full["solicitudes"].cell(1, headers.index("sexo") + 1).column_letter
    assert lists[f"{sex_column}2:{sex_column}5001"].startswith("=codigos!$B$")
    assert not any(headers.index("medios") + 1 == full["solicitudes"][ref.split(":")[0]].column for ref in lists)


def test_a_filled_template_with_dropdowns_imports(cast):
    client = cast.client_for(cast.officer_a)
    workbook = load_workbook(io.BytesIO(client.get(reverse("records:import_template", args=["xlsx"])).content))
    sheet = workbook["solicitudes"]
    headers = [c.value for c in sheet[1]]
    for row in samples.sample_rows(3):
        sheet.append([row[h] for h in headers])
    buffer = io.BytesIO()
    workbook.save(buffer)
    upload(client, buffer.getvalue(), "plantilla.xlsx")
    job = ImportJob.objects.latest("id")
    assert (job.status, job.count_new) == (ImportJob.Status.PREVIEWED, 3), job.errors


def test_template_csv_is_the_header_with_bom(cast):
    response = cast.client_for(cast.officer_a).get(reverse("records:import_template", args=["csv"]))
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeffreferencia_caso,fecha_recepcion")
    assert response.content.decode("utf-8-sig").strip().split(",") == samples.headers()


def test_the_officers_journey_twenty_rows_two_mistakes_then_zero_new(cast):
    client = cast.client_for(cast.officer_a)
    template = client.get(reverse("records:import_template", args=["xlsx"]))
    workbook = load_workbook(io.BytesIO(template.content))
    sheet = workbook["solicitudes"]
    headers = [c.value for c in sheet[1]]
    rows = samples.sample_rows(20)
    rows[6]["sexo"] = "Desconocido"
    rows[13].update(canton="101", distrito="Xyz")
    for row in rows:
        sheet.append([row[h] for h in headers])
    buffer = io.BytesIO()
    workbook.save(buffer)

    response = upload(client, buffer.getvalue(), "mis-casos.xlsx")
    job = ImportJob.objects.latest("id")
    assert response.status_code == 302 and job.status == ImportJob.Status.INVALID
    page = client.get(response["Location"]).content.decode()
    assert "row 8, column sexo: &#x27;Desconocido&#x27;" in page
    assert "row 15, column distrito: &#x27;Xyz&#x27; is not a district of canton 101" in page
    assert Application.all_objects.count() == 0
    assert client.post(reverse("records:import_confirm", args=[job.pk])).status_code == 302
    assert Application.all_objects.count() == 0  # an invalid job cannot be confirmed

    rows[6]["sexo"] = "Mujer"
    rows[13]["distrito"] = "Carmen"
    fixed = samples.to_xlsx(rows)
    response = upload(client, fixed, "mis-casos.xlsx")
    job = ImportJob.objects.latest("id")
    assert (job.status, job.count_new, job.error_count) == (ImportJob.Status.PREVIEWED, 20, 0)
    assert Application.all_objects.count() == 0  # preview writes nothing
    response = client.post(reverse("records:import_confirm", args=[job.pk]), follow=True)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.count_new == 20
    assert "Imported: 20 new" in response.content.decode()
    assert AccessEvent.objects.filter(action=AccessEvent.Action.IMPORT, object_id=str(job.pk)).exists()

    upload(client, fixed, "mis-casos.xlsx")
    again = ImportJob.objects.latest("id")
    client.post(reverse("records:import_confirm", args=[again.pk]))
    again.refresh_from_db()
    assert (again.status, again.count_new, again.count_unchanged) == (ImportJob.Status.DONE, 0, 20)
    assert Application.all_objects.count() == 20


def test_confirm_twice_imports_once(cast):
    job = job_of(cast)
    client = cast.client_for(cast.officer_a)
    client.post(reverse("records:import_confirm", args=[job.pk]))
    client.post(reverse("records:import_confirm", args=[job.pk]))
    assert Application.all_objects.count() == 3
    assert AccessEvent.objects.filter(action=AccessEvent.Action.IMPORT).count() == 1


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("casos.pdf", b"%PDF-1.4", "must be a spreadsheet"),
        ("casos.csv", b"", "The file is empty"),
        ("casos.xlsx", b"referencia_caso,fecha_recepcion\r\n", "not an Excel spreadsheet"),
        ("casos.csv", b"color,sabor\r\nazul,dulce\r\n", "No known column"),
    ],
)
def test_bad_files_get_a_clear_message_and_nothing_is_written(cast, name, data, message):
    client = cast.client_for(cast.officer_a)
    response = upload(client, data, name)
    if response.status_code == 302:
        response = client.get(response["Location"])
    assert message in response.content.decode()
    assert Application.all_objects.count() == 0


@override_settings(IMPORT_MAX_UPLOAD_BYTES=50)
def test_file_over_the_limit_is_refused_at_upload(cast):
    response = upload(cast.client_for(cast.officer_a), samples.to_csv(samples.sample_rows(2)))
    assert response.status_code == 200 and "larger than the limit" in response.content.decode()
    assert ImportJob.objects.count() == 0


def test_uploaded_file_is_stored_outside_static_under_a_random_name(cast, settings):
    job = job_of(cast)
    assert str(settings.MEDIA_ROOT) in job.file.path and "private" in job.file.path
    assert "static" not in job.file.path and job.token in job.file.name
    assert job.file.storage.base_url is None or "private" not in (job.file.storage.base_url or "")


def test_uploaded_file_is_kept_only_until_the_job_ends(cast):
    import os

    job = job_of(cast)
    path = job.file.path
    assert os.path.exists(path)
    cast.client_for(cast.officer_a).post(reverse("records:import_confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and not job.file and not os.path.exists(path)

    cancelled = job_of(cast, samples.sample_rows(2, prefix="C"))
    path = cancelled.file.path
    cast.client_for(cast.officer_a).post(reverse("records:import_cancel", args=[cancelled.pk]))
    assert not os.path.exists(path)


def test_officer_of_two_institutions_chooses_only_among_their_own(cast):
    from .cast import confirmed_membership

    confirmed_membership(user=cast.officer_a, institution=cast.institution_b, role="officer")
    client = cast.client_for(cast.officer_a)
    page = client.get(reverse("records:import_upload")).content.decode()
    assert "PANI" in page or "Patronato" in page
    response = upload(client, samples.to_csv(samples.sample_rows(2)), institution=cast.institution_b.pk)
    job = ImportJob.objects.latest("id")
    assert response.status_code == 302 and job.institution == cast.institution_b
    from accounts.models import Institution

    other = Institution.objects.exclude(pk__in=[cast.institution_a.pk, cast.institution_b.pk]).first()
    response = upload(client, samples.to_csv(samples.sample_rows(2)), institution=other.pk)
    assert response.status_code == 200 and ImportJob.objects.count() == 1


@pytest.fixture
def eager_celery(eager_celery, settings):
    """The worker runs in-process (tests/conftest.py::eager_celery, which puts task_always_eager back), also when
    REDIS_URL makes tasks go to a broker, and large imports go to Celery also without REDIS_URL, whose embedded
    default is a runner process (tests/test_import_runner.py)."""
    settings.IMPORT_RUNNER = "celery"
    return eager_celery


@override_settings(IMPORT_SYNC_MAX_BYTES=0)
def test_large_files_run_as_celery_tasks_queued_on_commit(cast, django_capture_on_commit_callbacks, eager_celery):
    client = cast.client_for(cast.officer_a)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        upload(client, samples.to_csv(samples.sample_rows(5)))
    job = ImportJob.objects.latest("id")
    assert job.status == ImportJob.Status.PREVIEWING and len(callbacks) == 1
    progress = client.get(reverse("records:import_progress", args=[job.pk])).json()
    assert progress["running"] is True
    callbacks[0]()  # the worker (eager in tests) runs the preview
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PREVIEWED and job.count_new == 5 and job.task_id

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("records:import_confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and Application.all_objects.count() == 5


def test_progress_of_a_running_task_comes_from_the_cache_and_survives_a_reload(cast):
    from django.core.cache import cache

    job = job_of(cast)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.IMPORTING)
    cache.set(services.progress_key(job), {"phase": "writing", "done": 4000, "total": 10000})
    client = cast.client_for(cast.officer_a)
    data = client.get(reverse("records:import_progress", args=[job.pk])).json()
    assert (data["done"], data["total"], data["running"]) == (4000, 10000, True)
    page = client.get(reverse("records:import_preview", args=[job.pk])).content.decode()
    assert "4000 of 10000 rows" in page and "import-progress.js" in page and 'data-progress-url="' in page


def test_cancel_before_confirm_writes_nothing(cast):
    job = job_of(cast)
    client = cast.client_for(cast.officer_a)
    client.post(reverse("records:import_cancel", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CANCELLED
    client.post(reverse("records:import_confirm", args=[job.pk]))
    assert Application.all_objects.count() == 0


def test_cancel_while_queued_or_running_writes_nothing(cast, monkeypatch):
    job = job_of(cast, samples.sample_rows(12))
    assert services.import_job_start(job=job)
    job.refresh_from_db()
    services.import_cancel(job=job)  # the officer clicks cancel while the task is queued
    services.import_confirm(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CANCELLED and Application.all_objects.count() == 0

    job = job_of(cast, samples.sample_rows(12))
    services.import_job_start(job=job)
    monkeypatch.setattr(services, "CHUNK", 4)
    real = services._job_cancelled

    def cancel_mid_write(job_):
        check = real(job_)
        state = {"n": 0}

        def inner():
            state["n"] += 1
            if state["n"] == 5:  # during the write, after one chunk is in the transaction
                ImportJob.objects.filter(pk=job_.pk).update(cancelled=True)
            return check()

        return inner

    monkeypatch.setattr(services, "_job_cancelled", cancel_mid_write)
    services.import_confirm(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CANCELLED and Application.all_objects.count() == 0


# --- Export ------------------------------------------------------------------------------------------------------


def _import(cast, institution, user, rows):
    from records.imports import parsing

    return services.import_rows(
        parsed=parsing.open_parsed(samples.to_csv(rows), name="x.csv"), institution=institution, user=user, write=True
    )


def _csv(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_officer_exports_own_applications_without_identity_by_default(cast):
    _import(cast, cast.institution_a, cast.officer_a, samples.sample_rows(3, prefix="A"))
    _import(cast, cast.institution_b, cast.officer_b, samples.sample_rows(2, prefix="B"))
    response = cast.client_for(cast.officer_a).get(reverse("records:export_applications"), {"format": "csv"})
    rows = _csv(response)
    assert {r["referencia_caso"][:1] for r in rows} == {"A"} and len(rows) == 3
    assert "nombres" not in rows[0] and "numero_documento" not in rows[0]
    assert AccessEvent.objects.filter(action=AccessEvent.Action.EXPORT, user=cast.officer_a).count() == 1
    assert not AccessEvent.objects.filter(action=AccessEvent.Action.IDENTITY_EXPORT).exists()


def test_identity_export_is_included_on_request_and_logged_separately(cast):
    rows = samples.sample_rows(2)
    _import(cast, cast.institution_a, cast.officer_a, rows)
    response = cast.client_for(cast.officer_a).get(
        reverse("records:export_applications"), {"format": "csv", "identity": "on"}
    )
    exported = _csv(response)
    assert {r["nombres"] for r in exported} == {r["nombres"] for r in rows}
    event = AccessEvent.objects.get(action=AccessEvent.Action.IDENTITY_EXPORT)
    assert event.user == cast.officer_a and "rows=2" in event.detail and "Nombre" not in event.detail


def test_exported_file_imports_back_unchanged(cast):
    _import(cast, cast.institution_a, cast.officer_a, samples.sample_rows(6))
    response = cast.client_for(cast.officer_a).get(
        reverse("records:export_applications"), {"format": "csv", "identity": "on"}
    )
    data = b"".join(response.streaming_content)
    from records.imports import parsing

    outcome = services.import_rows(
        parsed=parsing.open_parsed(data, name="export.csv"),
        institution=cast.institution_a,
        user=cast.officer_a,
        write=False,
    )
    assert (outcome.new, outcome.updated, outcome.unchanged) == (0, 0, 6), [str(e) for e in outcome.errors.items]


def test_coordinator_exports_submitted_applications_of_every_institution_as_xlsx(cast):
    _import(cast, cast.institution_a, cast.officer_a, samples.sample_rows(3, prefix="A"))
    _import(cast, cast.institution_b, cast.officer_b, samples.sample_rows(2, prefix="B"))
    Application.all_objects.filter(case_reference__in=["A-0000001", "B-0000001"]).update(status=Status.SUBMITTED)
    response = cast.client_for(cast.coordinator_a).get(
        reverse("records:export_applications"), {"format": "xlsx", "identity": "on"}
    )
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    values = list(workbook.active.iter_rows(values_only=True))
    header = list(values[0])
    assert "nombres" in header and "institucion" in header
    references = sorted(r[header.index("referencia_caso")] for r in values[1:])
    assert references == ["A-0000001", "B-0000001"]
    assert AccessEvent.objects.filter(action=AccessEvent.Action.IDENTITY_EXPORT, user=cast.coordinator_a).exists()


def test_analyst_cannot_export_and_the_refusal_is_logged(cast):
    response = cast.client_for(cast.analyst_a).get(reverse("records:export_applications"), {"format": "csv"})
    assert response.status_code == 403
    assert AccessEvent.objects.filter(action=AccessEvent.Action.ACCESS_DENIED, user=cast.analyst_a).exists()
    assert not AccessEvent.objects.filter(action=AccessEvent.Action.EXPORT).exists()


@pytest.mark.parametrize(("who", "shown"), [("officer_a", True), ("coordinator_a", True), ("analyst_a", False)])
def test_navigation_offers_export_only_to_those_who_may_export(cast, who, shown):
    page = cast.client_for(cast.users()[who]).get(reverse("home")).content.decode()
    assert (f'href="{reverse("records:export_applications")}"' in page) is shown
    assert (f'href="{reverse("records:import_upload")}"' in page) is (who == "officer_a")


def test_exports_defuse_formula_like_text_and_import_it_back(cast):
    from records.imports import parsing

    rows = samples.sample_rows(1)
    rows[0]["nombres"] = '\'=HYPERLINK("http://evil")'
    rows[0]["apellidos"] = "-Pérez"
    assert _import(cast, cast.institution_a, cast.officer_a, rows).written
    assert Application.all_objects.get().person.identity.given_names == '=HYPERLINK("http://evil")'
    client = cast.client_for(cast.officer_a)
    response = client.get(reverse("records:export_applications"), {"format": "xlsx", "identity": "on"})
    workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook.active
    header = [c.value for c in sheet[1]]
    cell = sheet.cell(2, header.index("nombres") + 1)
    assert cell.data_type != "f" and cell.value.startswith("'=")
    data = b"".join(
        client.get(reverse("records:export_applications"), {"format": "csv", "identity": "on"}).streaming_content
    )
    assert b"'=HYPERLINK" in data and b"'-P" in data
    outcome = services.import_rows(
        parsed=parsing.open_parsed(data, name="e.csv"), institution=cast.institution_a, user=cast.officer_a, write=False
    )
    assert outcome.unchanged == 1, [str(e) for e in outcome.errors.items]


def test_a_csv_text_cell_that_is_a_formula_is_refused(cast):
    rows = samples.sample_rows(1)
    rows[0]["nombres"] = "=1+1"
    outcome = _import(cast, cast.institution_a, cast.officer_a, rows)
    assert not outcome.written and "formula" in str(outcome.errors.items[0])


@pytest.mark.redis
def test_progress_and_cancel_flag_go_through_the_shared_cache(cast):
    """With Redis, the worker and the web processes share the cache: what the task reports is what any web
    process (after a reload, behind another gunicorn worker) reads."""
    from django.core.cache import cache, caches
    from django.core.cache.backends.redis import RedisCache

    assert isinstance(caches["default"], RedisCache)
    job = job_of(cast)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.IMPORTING)
    job.refresh_from_db()
    services._job_progress(job)("writing", 1234, 5000)
    assert services.progress_read(job=job) == {"phase": "writing", "done": 1234, "total": 5000}
    services.import_cancel(job=job)
    assert services._job_cancelled(job)()
    cache.delete(services.progress_key(job))
    cache.delete(services.progress_key(job) + ":cancel")
