"""All or nothing, idempotent on institution + case reference, history of every change, the same person key as
single entry, cancellation without writes, and the years the indicators must recompute."""

import datetime

import pytest
from django.test import TestCase
from django.utils import translation

from records.imports import parsing, samples, services
from records.keys import person_key
from records.models import Application, Code, Identity, Person, Status

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def run(cast, rows, *, write=True, name="data.csv", institution=None, user=None, **kwargs):
    data = samples.to_xlsx(rows) if name.endswith(".xlsx") else samples.to_csv(rows)
    return services.import_rows(
        parsed=parsing.open_parsed(data, name=name),
        institution=institution or cast.institution_a,
        user=user or cast.officer_a,
        write=write,
        **kwargs,
    )


def test_write_creates_applications_people_identities_and_facts(cast):
    rows = samples.sample_rows(25)
    outcome = run(cast, rows)
    assert outcome.written and (outcome.new, outcome.updated, outcome.unchanged) == (25, 0, 0)
    assert Application.all_objects.filter(institution=cast.institution_a).count() == 25
    app = Application.all_objects.get(case_reference=rows[0]["referencia_caso"])
    assert app.created_by == cast.officer_a and app.status == Status.DRAFT and app.version == 1
    assert app.person.institution == cast.institution_a
    assert app.person.identity.given_names == rows[0]["nombres"]
    assert app.person.identity.birth_date.strftime("%d/%m/%Y") == rows[0]["fecha_nacimiento"]
    assert app.birth_date_known and app.age_at_application is not None
    assert app.residence_district_id == rows[0]["distrito"]
    assert sorted(c.code for c in app.means.all()) == sorted(rows[0]["medios"].split("; "))
    assert [n.country.code for n in app.nationalities.all()] == [rows[0]["nacionalidades"]]
    assert [c.country.code for c in app.exploitation_countries.all()] == ["CR"]
    assert app.exploitation_districts.count() == 1


def test_write_records_history_like_a_save_would(cast):
    rows = samples.sample_rows(3)
    run(cast, rows)
    app = Application.all_objects.get(case_reference=rows[0]["referencia_caso"])
    [created] = app.history.all()
    assert created.history_type == "+" and created.history_user == cast.officer_a
    assert created.history_change_reason == "import"
    assert sorted(m.code_id for m in created.means.all()) == sorted(app.means.values_list("id", flat=True))
    assert app.person.history.get().history_type == "+"
    assert app.person.identity.history.get().history_type == "+"


def test_same_file_twice_creates_nothing_new(cast):
    rows = samples.sample_rows(20)
    run(cast, rows)
    again = run(cast, rows)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 20)
    assert Application.all_objects.count() == 20 and Person.objects.count() == 20
    assert all(a.history.count() == 1 for a in Application.all_objects.all())


def test_an_unchanged_file_imported_again_finds_no_change_and_changes_no_table(cast):
    """Issue 19, point 2 (the comparison now reads only the compared values, as tuples): rows of every shape
    (no document, a place given as a canton, sent to the ERI, decided with its resolution, several facts) read
    back as unchanged, in a dry run and in a confirm, and the confirm leaves every records table as it was: no
    history row, no version, no event, no resolution."""
    from .security_helpers import table_checksums

    user = _importing_coordinator(cast)
    rows = samples.sample_rows(30)
    rows[0].update(tipo_documento="", numero_documento="", fecha_nacimiento="")
    rows[1].update(distrito="", canton="101")
    rows[2].update(estado="Enviada", fecha_recepcion="02/02/2026")
    rows[3].update(estado="Acreditada", fecha_recepcion="01/02/2022", fecha_decision="09/02/2022")
    rows[3].update(numero_resolucion="ERI-H-9", votos_favor="4", votos_contra="1", abstenciones="1")
    rows[4].update(medios="FRAUD; COERCION", paises_explotacion="CR; PA", nacionalidades="NI; CR")
    assert run(cast, rows, user=user).written
    tables = [name for name in table_checksums() if name.startswith("records_") and name != "records_importjob"]
    before = table_checksums(tables)
    dry = run(cast, rows, user=user, write=False)
    again = run(cast, rows, user=user)
    assert (dry.new, dry.updated, dry.unchanged) == (again.new, again.updated, again.unchanged) == (0, 0, 30)
    assert again.written and not again.errors and again.years == set()
    assert table_checksums(tables) == before


def test_same_rows_as_xlsx_after_csv_are_unchanged(cast):
    rows = samples.sample_rows(5)
    run(cast, rows)
    again = run(cast, rows, name="data.xlsx")
    assert (again.new, again.unchanged) == (0, 5)


def test_reimport_with_changes_updates_and_history_records_the_change(cast):
    rows = samples.sample_rows(10)
    run(cast, rows)
    rows[3]["sexo"] = "M" if rows[3]["sexo"] not in ("M", "Hombre", "hombre") else "F"
    rows[3]["medios"] = "FRAUD"
    rows[7]["apellidos"] = "Otro Apellido"
    outcome = run(cast, rows)
    assert (outcome.new, outcome.updated, outcome.unchanged) == (0, 2, 8)
    app = Application.all_objects.get(case_reference=rows[3]["referencia_caso"])
    assert app.version == 2
    assert [c.code for c in app.means.all()] == ["FRAUD"]
    new, old = app.history.all()[:2]
    assert new.history_type == "~"
    changed = {change.field for change in new.diff_against(old, foreign_keys_are_objs=False).changes}
    assert {"sex", "means"} <= changed
    assert [m.code.code for m in new.means.all()] == ["FRAUD"]
    assert sorted(m.code.code for m in old.means.all()) != ["FRAUD"]
    other = Application.all_objects.get(case_reference=rows[7]["referencia_caso"])
    assert other.person.identity.family_names == "Otro Apellido"
    assert other.person.identity.history.first().history_type == "~"


def test_column_absent_from_the_file_keeps_stored_values(cast):
    rows = samples.sample_rows(2)
    run(cast, rows)
    slim = [{"referencia_caso": r["referencia_caso"], "fecha_recepcion": r["fecha_recepcion"]} for r in rows]
    outcome = run(cast, slim)
    assert outcome.unchanged == 2
    assert Application.all_objects.exclude(sex=None).count() == 2


def test_one_bad_row_writes_nothing(cast):
    rows = samples.sample_rows(30)
    rows[29]["distrito"] = "Nowhere"
    rows[29]["canton"] = ""
    outcome = run(cast, rows)
    assert not outcome.written and outcome.errors.total == 1
    assert Application.all_objects.count() == 0 and Person.objects.count() == 0 and Identity.objects.count() == 0


def test_an_error_found_in_the_write_phase_rolls_back_earlier_chunks(cast, monkeypatch):
    monkeypatch.setattr(services, "CHUNK", 5)
    rows = samples.sample_rows(12)
    run(cast, rows[10:])  # two applications exist already ...
    Application.all_objects.filter(case_reference=rows[11]["referencia_caso"]).update(status=Status.SUBMITTED)
    rows[11]["sexo"] = "I"  # ... and the last row changes one the ERI already has
    outcome = run(cast, rows)
    assert not outcome.written
    assert "already with the ERI" in str(outcome.errors.items[0])
    assert Application.all_objects.count() == 2


def test_an_unchanged_submitted_application_is_fine(cast):
    rows = samples.sample_rows(2)
    run(cast, rows)
    Application.all_objects.update(status=Status.SUBMITTED)
    rows_submitted = [dict(r, estado="SUBMITTED") for r in rows]
    assert run(cast, rows_submitted).unchanged == 2


def test_the_file_cannot_choose_the_institution(cast):
    rows = samples.sample_rows(2)
    run(cast, rows, institution=cast.institution_b, user=cast.officer_b)
    assert set(Application.all_objects.values_list("institution__code", flat=True)) == {"PANI"}
    # the same references are a different key in another institution
    outcome = run(cast, rows)
    assert outcome.new == 2 and Application.all_objects.count() == 4


def test_person_key_recognises_the_same_person_in_later_applications(cast):
    first = samples.sample_rows(1, prefix="Y2020")
    run(cast, first)
    later = samples.sample_rows(1, prefix="Y2023")
    later[0]["numero_documento"] = first[0]["numero_documento"].lower()
    run(cast, later)
    apps = Application.all_objects.order_by("id")
    # One person row per application, as in single entry; the key says they are the same person.
    assert apps[0].person_id != apps[1].person_id
    expected = person_key("passport", first[0]["numero_documento"])
    assert apps[0].person.person_key == apps[1].person.person_key == expected and len(expected) == 64


def test_the_import_and_single_entry_compute_the_same_key(cast):
    from records.services import person_key_compute

    rows = samples.sample_rows(1)
    rows[0].update(tipo_documento="Cédula de identidad", numero_documento="1-0234-0567")
    run(cast, rows)
    expected = person_key_compute(document_type="national_id", document_number="102340567")
    assert Person.objects.get().person_key == expected != ""


def test_a_re_import_with_a_new_document_updates_the_person_key(cast):
    rows = samples.sample_rows(1)
    run(cast, rows)
    rows[0]["numero_documento"] = "X999"
    assert run(cast, rows).updated == 1
    person = Person.objects.get()
    assert person.person_key == person_key("passport", "X999")
    assert person.history.first().history_type == "~"


def test_rows_without_a_document_are_distinct_people(cast):
    rows = samples.sample_rows(2)
    for row in rows:
        row["numero_documento"] = ""
        row["tipo_documento"] = ""
    run(cast, rows)
    assert Person.objects.count() == 2
    assert set(Person.objects.values_list("person_key", flat=True)) == {""}
    assert set(Identity.objects.values_list("document_type", flat=True)) == {"none"}


def test_cancel_during_the_write_rolls_back_everything(cast, monkeypatch):
    monkeypatch.setattr(services, "CHUNK", 4)
    calls = {"n": 0}

    def cancel_on_second_write_chunk():
        calls["n"] += 1
        return calls["n"] >= 5  # after 3 validation checks and one written chunk

    with pytest.raises(services.ImportCancelled):
        run(cast, samples.sample_rows(14), is_cancelled=cancel_on_second_write_chunk)
    assert Application.all_objects.count() == 0 and Person.objects.count() == 0


def test_progress_is_reported_per_chunk(cast, monkeypatch):
    monkeypatch.setattr(services, "CHUNK", 5)
    seen = []
    run(cast, samples.sample_rows(12), progress=lambda phase, done, total: seen.append((phase, done)))
    assert ("writing", 12) in seen and ("validating", 10) in seen


def _steps(seen: list) -> list:
    """The steps named, in order, each once however many chunks it reported."""
    return [phase for i, phase in enumerate(seen) if i == 0 or seen[i - 1] != phase]


def test_a_confirm_names_each_step_up_to_the_recompute_after_its_commit(cast, monkeypatch):
    """Issue 19, point 3: the bar no longer sits at N/N while the commit and the recompute run; each is a step of
    its own, the recompute's reported once the write is committed (an on-commit callback, before the indicators'
    own), and the dry run compares where the write writes."""
    monkeypatch.setattr(services, "CHUNK", 5)
    rows = samples.sample_rows(12)
    seen = []
    run(cast, rows, write=False, progress=lambda phase, done, total: seen.append(phase))
    assert _steps(seen) == ["validating", "comparing"]
    seen.clear()
    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
        run(cast, rows, progress=lambda phase, done, total: seen.append((phase, done, total)))
    assert _steps([phase for phase, _done, _total in seen]) == ["validating", "writing", "saving"]
    assert seen[-1] == ("saving", 12, 12)
    callbacks[0]()  # the first callback after the commit: the recompute's step, before the recompute runs
    assert seen[-1] == ("recomputing", 12, 12)


def test_affected_years_include_old_and_new_years(cast):
    rows = samples.sample_rows(2)
    rows[0]["fecha_recepcion"] = "10/10/2020"
    rows[1]["fecha_recepcion"] = "10/10/2021"
    first = run(cast, rows)
    assert first.years == {2020, 2021}
    rows[1]["fecha_recepcion"] = "05/01/2023"
    again = run(cast, rows)
    assert again.years == {2021, 2023}


def _decided_row(**resolution) -> list[dict]:
    rows = samples.sample_rows(1)
    rows[0].update(fecha_recepcion="01/02/2022", estado="Acreditada", fecha_decision="09/02/2022", **resolution)
    return rows


def _importing_coordinator(cast):
    """An ERI coordinator who may also import into INAMU (the secretariat loading the ERI's past resolutions)."""
    from accounts.models import Role

    from .cast import confirmed_membership

    confirmed_membership(user=cast.officer_a, institution=cast.institution_a, role=Role.COORDINATOR)
    return cast.officer_a


# Issue 14, point 3: an officer's import made accredited victims with no ERI decision.
def test_an_officers_import_of_a_decided_application_is_a_row_error(cast):
    outcome = run(cast, _decided_row(numero_resolucion="ERI-H-1", votos_favor="4", votos_contra="1"))
    assert not outcome.written
    [error] = outcome.errors.items
    assert (error.row, error.column) == (2, "estado")
    assert error.message.startswith("only an ERI coordinator may import a decided application")
    assert not Application.all_objects.exists()


def test_a_decided_row_without_its_resolution_is_a_row_error(cast):
    user = _importing_coordinator(cast)
    outcome = run(cast, _decided_row(), user=user)
    assert [(e.column, e.message) for e in outcome.errors.items] == [
        ("numero_resolucion", "a decided application needs the number of the ERI's resolution"),
        ("votos_favor", "a decided application needs the ERI's vote (votes in favour of accrediting and against)"),
    ]
    outcome = run(cast, _decided_row(numero_resolucion="ERI-H-1", votos_favor="1", votos_contra="4"), user=user)
    assert [(e.column, e.message) for e in outcome.errors.items] == [
        ("votos_favor", "Accreditation needs more votes in favour than against.")
    ]
    assert not Application.all_objects.exists()


def test_a_coordinators_import_of_a_decided_application_records_the_resolution(cast):
    from accounts.models import AccessEvent
    from records.models import Decision

    user = _importing_coordinator(cast)
    rows = _decided_row(numero_resolucion="ERI-H-7", votos_favor="4", votos_contra="1", abstenciones="1")
    outcome = run(cast, rows, user=user)
    assert outcome.written, [str(e) for e in outcome.errors.items]
    app = Application.all_objects.get()
    assert app.status == Status.ACCREDITED and app.decided_on == datetime.date(2022, 2, 9)
    assert app.submitted_at is not None and app.due_on is None
    assert list(app.events.values_list("from_status", "to_status", "by", "comment")) == [
        ("", "ACCREDITED", user.pk, "import")
    ]
    decision = Decision.objects.get(application=app)
    assert (decision.resolution_number, decision.resolution_date, decision.outcome) == (
        "ERI-H-7",
        datetime.date(2022, 2, 9),
        "ACCREDITED",
    )
    assert (decision.votes_in_favour, decision.votes_against, decision.abstentions) == (4, 1, 1)
    assert decision.recorded_by == user
    assert decision.history.get().history_change_reason == "import"
    audit = AccessEvent.objects.get(action=AccessEvent.Action.IMPORT, object_type="records.decision")
    assert (audit.user, audit.object_id) == (user, str(decision.pk))
    # The same file again: unchanged, no second resolution; the number cannot be reused by another row.
    assert run(cast, rows, user=user).unchanged == 1
    assert Decision.objects.count() == 1
    other = _decided_row(numero_resolucion="ERI-H-7", votos_favor="4", votos_contra="1")
    other[0]["referencia_caso"] = "EXP-OTHER"
    outcome = run(cast, other, user=user)
    assert [(e.column, e.message) for e in outcome.errors.items] == [
        ("numero_resolucion", "the resolution number 'ERI-H-7' is already recorded")
    ]


def test_submitted_applications_get_their_legal_deadline(cast):
    from records import deadlines

    rows = samples.sample_rows(1)
    rows[0].update(fecha_recepcion="02/02/2026", estado="Enviada")
    run(cast, rows)
    app = Application.all_objects.get()
    assert app.due_on == deadlines.due_on(datetime.date(2026, 2, 2))


def test_codes_are_stored_as_the_code_whatever_was_written(cast):
    rows = samples.sample_rows(1)
    rows[0]["sexo"] = "hombre"
    run(cast, rows)
    assert Application.all_objects.get().sex == Code.objects.get(list="sex", code="M")


@pytest.mark.postgres
def test_bulk_write_on_postgresql_copies_and_is_idempotent(cast):
    rows = samples.sample_rows(300)
    assert run(cast, rows).new == 300
    assert run(cast, rows).unchanged == 300
    assert Application.history.filter(history_type="+").count() == 300


def test_a_fault_of_the_portal_marks_the_job_failed_and_writes_nothing(cast, monkeypatch, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from records.imports.models import ImportJob

    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("casos.csv", samples.to_csv(samples.sample_rows(5)))
    job = services.import_job_create(user=cast.officer_a, institution=cast.institution_a, upload=upload)
    services.import_preview(job_id=job.pk)
    assert services.import_job_start(job=job)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services._Writer, "_write_facts", broken)
    with pytest.raises(RuntimeError):
        services.import_confirm(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and "nothing was written" in job.errors[0]["message"]
    assert Application.all_objects.count() == 0 and Person.objects.count() == 0


def _job(cast, settings, tmp_path, rows=3):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("casos.csv", samples.to_csv(samples.sample_rows(rows)))
    return services.import_job_create(user=cast.officer_a, institution=cast.institution_a, upload=upload)


def test_tasks_are_idempotent(cast, settings, tmp_path):
    from records.imports import tasks
    from records.imports.models import ImportJob

    job = _job(cast, settings, tmp_path)
    tasks.import_preview_task(job.pk)
    tasks.import_preview_task(job.pk)  # a redelivered message
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PREVIEWED
    services.import_job_start(job=job)
    tasks.import_confirm_task(job.pk)
    tasks.import_confirm_task(job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and Application.all_objects.count() == 3
    assert job.affected_years and all(2019 <= year <= 2025 for year in job.affected_years)


def test_stale_jobs_are_closed_and_their_files_deleted(cast, settings, tmp_path):
    import os

    from records.imports import tasks
    from records.imports.models import ImportJob

    waiting = _job(cast, settings, tmp_path)
    services.import_preview(job_id=waiting.pk)
    lost = _job(cast, settings, tmp_path)
    ImportJob.objects.filter(pk=lost.pk).update(status=ImportJob.Status.IMPORTING)
    fresh = _job(cast, settings, tmp_path)
    services.import_preview(job_id=fresh.pk)
    paths = {job.pk: ImportJob.objects.get(pk=job.pk).file.path for job in (waiting, lost, fresh)}
    old = timezone_now() - datetime.timedelta(days=2)
    ImportJob.objects.filter(pk__in=[waiting.pk, lost.pk]).update(updated_at=old)
    assert tasks.import_jobs_expire_task() == 2
    states = dict(ImportJob.objects.values_list("pk", "status"))
    assert states == {waiting.pk: "cancelled", lost.pk: "failed", fresh.pk: "previewed"}
    assert not os.path.exists(paths[waiting.pk]) and not os.path.exists(paths[lost.pk])
    assert os.path.exists(paths[fresh.pk])
    assert tasks.import_jobs_expire_task() == 0


def timezone_now():
    from django.utils import timezone

    return timezone.now()
