"""Issue 14, point 6: "No registrado" appeared twice in the sex list and several others (the list's code for an
unknown value, and the blank of an empty field, both labelled "No registrado"), and counted as complete on the
data-quality page. Now each list has one "not recorded": the code is marked ``means_not_recorded``, counted with the
blank by the indicators and as missing by the completeness report. A data migration merges any duplicate
"No registrado" codes of a list into one, repointing every record. The import refuses a document type without its
number."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps
from django.test import override_settings
from django.utils import translation

from indicators import selectors
from indicators import services as indicator_services
from indicators.dimensions import DIMENSIONS
from records.imports import parsing, samples
from records.imports import services as import_services
from records.models import Application, Code, CodeList, Population
from records.scopes import scopes_disabled

from .records_factories import RECEIVED, code, make_application

pytestmark = pytest.mark.django_db

MIGRATION = "records.migrations.0010_merge_not_recorded_codes"


def test_each_list_code_for_not_recorded_is_marked_by_the_migrations():
    marked = dict(Code.objects.filter(means_not_recorded=True).values_list("list", "code"))
    assert marked["sex"] == "U"
    assert {
        "relationship_to_trafficker",
        "gender_identity",
        "migration_status",
        "education_level",
        "occupation",
    } <= set(marked)
    assert not Code.objects.filter(list="sex", code__in=["F", "M", "I"], means_not_recorded=True).exists()


def test_the_reports_offer_one_not_recorded_per_list():
    with translation.override("es"):
        for name in ("sex", "gender_identity", "migration_status", "occupation", "education", "relationship"):
            labels = list(DIMENSIONS[name].labels().values())
            assert sum("registrad" in label.lower() for label in labels) == 1, (name, labels)


@override_settings(CELERY_TASK_ALWAYS_EAGER=True)
def test_not_recorded_counts_as_missing_on_the_data_quality_page(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        make_application(cast, state="SUBMITTED", sex=code(CodeList.SEX, "U"))
        make_application(cast, state="SUBMITTED", sex=code(CodeList.SEX, "F"))
        make_application(
            cast, state="SUBMITTED", occupation=code(CodeList.OCCUPATION, "UNKNOWN"), migration_status=None
        )
        indicator_services.recompute_full()
    entry = selectors.completeness()[(cast.institution_a.code, RECEIVED.year)]
    assert entry["total"] == 3
    assert entry["fields"]["sex"] == 2  # "No registrado" is not a recorded sex
    assert entry["fields"]["occupation"] == 0
    assert entry["fields"]["migration_status"] == 2
    # In the tables, the code and the blank are one "not recorded" cell.
    by_sex = selectors.measure_by_year(measure="received", filters={"sex": ""})
    assert by_sex == {RECEIVED.year: 1}


def test_the_migration_merges_duplicate_not_recorded_codes_and_loses_no_record(cast):
    kept = code(CodeList.SEX, "U")
    duplicate = Code.objects.create(list="sex", code="NR", label_es="No registrado", label_en="", sort_order=99)
    means_kept = Code.objects.create(list="means", code="NR1", label_es="No registrado", label_en="", sort_order=90)
    means_twin = Code.objects.create(list="means", code="NR2", label_es="no registrado", label_en="", sort_order=91)
    both = make_application(cast, sex=duplicate, means=[means_kept, means_twin])
    only_twin = make_application(cast, sex=kept, means=[means_twin])
    age_group = Code.objects.filter(list=CodeList.AGE_GROUP).first()
    Population.objects.create(year=2024, sex=duplicate, age_group=age_group, population=10)
    Population.objects.create(year=2025, sex=duplicate, age_group=age_group, population=7)
    Population.objects.create(year=2025, sex=kept, age_group=age_group, population=9)

    # With the live models, whose manager is scoped: a migration reads every record, for no user.
    with scopes_disabled():
        importlib.import_module(MIGRATION).merge(django_apps, None)

    assert Application.all_objects.count() == 2
    both.refresh_from_db()
    assert both.sex_id == kept.pk
    assert list(both.means.values_list("code", flat=True)) == ["NR1"]
    assert list(only_twin.means.values_list("code", flat=True)) == ["NR1"]
    duplicate.refresh_from_db()
    assert (duplicate.active, duplicate.note) == (False, "merged into U")
    assert Code.objects.filter(pk=duplicate.pk).exists()  # retired, never deleted
    assert dict(Population.objects.filter(sex=kept).values_list("year", "population")) == {2024: 10, 2025: 9}
    assert not Population.objects.filter(sex=duplicate).exists()


def test_the_import_refuses_a_document_type_without_its_number(cast):
    rows = samples.sample_rows(1)
    rows[0].update(tipo_documento="pasaporte", numero_documento="")
    parsed = parsing.open_parsed(samples.to_csv(rows), name="docs.csv")
    with translation.override("en"):
        outcome = import_services.import_rows(
            parsed=parsed, institution=cast.institution_a, user=cast.officer_a, write=True
        )
        errors = [str(e) for e in outcome.errors.items]
    assert not outcome.written
    assert errors == [
        "row 2, column numero_documento: Enter the number of the identity document, or choose 'No document'."
    ]
