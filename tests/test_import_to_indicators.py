"""An import tells the indicator engine what it wrote: its applications one by one when they are few (so the
recompute applies their difference), its years when they are many (issue 19)."""

from __future__ import annotations

import pytest

from indicators import services as indicator_services
from indicators.models import PendingRecompute
from indicators.recompute import outbox
from records.imports import parsing, samples
from records.imports import services as imports
from records.models import Application

pytestmark = pytest.mark.django_db


def _import(cast, count: int):
    rows = [dict(row, estado="SUBMITTED") for row in samples.sample_rows(count)]
    return imports.import_rows(
        parsed=parsing.open_parsed(samples.to_csv(rows), name="data.csv"),
        institution=cast.institution_a,
        user=cast.officer_a,
        write=True,
    )


def test_an_import_marks_the_applications_it_wrote(cast):
    outcome = _import(cast, 3)
    written = set(Application.all_objects.values_list("pk", flat=True))
    assert outcome.written and len(written) == 3 and set(outcome.application_ids) == written
    assert set(PendingRecompute.objects.values_list("application_id", flat=True)) == written
    assert indicator_services.pending_years() == []


def test_a_reimport_with_changes_marks_the_changed_applications(cast):
    rows = samples.sample_rows(3)  # drafts: an import cannot change an application already with the ERI
    imports.import_rows(
        parsed=parsing.open_parsed(samples.to_csv(rows), name="data.csv"),
        institution=cast.institution_a,
        user=cast.officer_a,
        write=True,
    )
    PendingRecompute.objects.all().delete()
    for i in (1, 2):
        sex = Application.all_objects.get(case_reference=rows[i]["referencia_caso"]).sex.code
        rows[i] = dict(rows[i], sexo="M" if sex != "M" else "F")
    outcome = imports.import_rows(
        parsed=parsing.open_parsed(samples.to_csv(rows), name="data.csv"),
        institution=cast.institution_a,
        user=cast.officer_a,
        write=True,
    )
    changed = set(
        Application.all_objects.filter(
            case_reference__in=[rows[1]["referencia_caso"], rows[2]["referencia_caso"]]
        ).values_list("pk", flat=True)
    )
    assert outcome.updated == 2
    assert set(PendingRecompute.objects.values_list("application_id", flat=True)) == changed


def test_a_large_import_marks_its_years(cast, monkeypatch):
    monkeypatch.setattr(outbox, "MAX_APPLICATION_MARKS", 2)
    outcome = _import(cast, 3)
    assert indicator_services.pending_years() == sorted(outcome.years) and outcome.years
    assert not PendingRecompute.objects.filter(application_id__isnull=False).exists()
