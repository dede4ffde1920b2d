"""Every row is validated first; each problem is reported by row and column; codes, dates and places are read
forgivingly; identity values are never echoed in a message."""

import datetime

import pytest
from django.utils import translation

from records.imports import parsing, samples, services
from records.imports.validation import Lookups, parse_date
from records.models import Application, Code

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    # Messages are English msgids; their Spanish translations are checked in test_import_translations.py.
    with translation.override("en"):
        yield


def preview(cast, rows, *, institution=None, name="data.csv", data=None):
    data = data if data is not None else samples.to_csv(rows)
    parsed = parsing.open_parsed(data, name=name)
    return services.import_rows(
        parsed=parsed, institution=institution or cast.institution_a, user=cast.officer_a, write=False
    )


def only_row(**values):
    row = samples.sample_rows(1)[0]
    row.update(values)
    return [row]


def messages(outcome):
    return [str(e) for e in outcome.errors.items]


@pytest.mark.parametrize("written", ["F", "f", "Mujer", "MUJER", "mujer ", "Female", "female"])
def test_codes_as_code_or_spanish_or_english_label_any_case(cast, written):
    outcome = preview(cast, only_row(sexo=written))
    assert outcome.ok, messages(outcome)


@pytest.mark.parametrize(
    "written",
    [
        "Explotación sexual (cualquier forma)",
        "EXPLOTACION SEXUAL (CUALQUIER FORMA)",
        "explotacion sexual (cualquier forma)",
    ],
)
def test_labels_match_ignoring_accents(cast, written):
    outcome = preview(cast, only_row(formas_explotacion=written))
    assert outcome.ok, messages(outcome)


def test_several_values_separated_by_semicolon_or_bar(cast):
    outcome = preview(cast, only_row(formas_explotacion="SEXUAL; labour | Servidumbre"))
    assert outcome.ok, messages(outcome)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("15/03/2024", datetime.date(2024, 3, 15)),
        ("5/3/2024", datetime.date(2024, 3, 5)),
        ("2024-03-15", datetime.date(2024, 3, 15)),
        ("45366", datetime.date(2024, 3, 15)),
        (45366, datetime.date(2024, 3, 15)),
        (45366.0, datetime.date(2024, 3, 15)),
        (datetime.datetime(2024, 3, 15, 0, 0), datetime.date(2024, 3, 15)),
        ("", None),
    ],
)
def test_dates_in_every_accepted_form(raw, expected):
    assert parse_date(raw) == expected


def test_bad_dates_are_reported_with_the_value(cast):
    outcome = preview(cast, only_row(fecha_recepcion="31/02/2024"))
    assert messages(outcome) == ["row 2, column fecha_recepcion: '31/02/2024' is not a date (use dd/mm/yyyy)"]


def test_identity_values_are_never_echoed(cast):
    outcome = preview(cast, only_row(fecha_nacimiento="30/02/1990"))
    [message] = messages(outcome)
    assert "fecha_nacimiento" in message and "1990" not in message


def test_district_not_in_canton_names_row_column_and_canton(cast):
    rows = samples.sample_rows(3)
    rows[1].update(canton="101", distrito="Xyz")
    outcome = preview(cast, rows)
    assert messages(outcome) == ["row 3, column distrito: 'Xyz' is not a district of canton 101"]


def test_district_by_name_within_its_canton_or_by_code(cast):
    assert preview(cast, only_row(canton="San José", distrito="carmen")).ok
    assert preview(cast, only_row(canton="", distrito="10101")).ok


def test_canton_not_in_its_province_is_an_error(cast):
    outcome = preview(cast, only_row(provincia="2", canton="101", distrito=""))
    assert messages(outcome) == ["row 2, column canton: This canton is not in the chosen province."]


def test_unknown_code_names_the_list(cast):
    outcome = preview(cast, only_row(sexo="Marciano"))
    assert messages(outcome) == [
        "row 2, column sexo: 'Marciano' is not a value of the list \"Sex\" (see the codes sheet of the template)"
    ]


def test_countries_by_iso_code_or_name_in_either_language(cast):
    assert preview(cast, only_row(nacionalidades="NI; Colombia; Panamá; NIC")).ok
    outcome = preview(cast, only_row(nacionalidades="Atlántida"))
    assert "is not a country" in messages(outcome)[0]


def test_mother_tongue_by_code_or_name(cast):
    assert preview(cast, only_row(lengua_materna="Bribri")).ok
    assert preview(cast, only_row(lengua_materna="es")).ok


def test_a_row_for_another_institution_is_an_error(cast):
    rows = samples.sample_rows(2)
    for row in rows:
        row["institucion"] = "INAMU"
    rows[1]["institucion"] = "PANI"
    outcome = preview(cast, rows)
    assert messages(outcome) == [
        "row 3, column institucion: 'PANI' is another institution: this import is for INAMU only"
    ]


def test_repeated_case_reference_points_at_the_first(cast):
    rows = samples.sample_rows(3)
    rows[2]["referencia_caso"] = rows[0]["referencia_caso"]
    outcome = preview(cast, rows)
    assert "is repeated (first in row 2)" in messages(outcome)[0]


def test_required_values(cast):
    outcome = preview(cast, only_row(referencia_caso="", fecha_recepcion=""))
    assert messages(outcome) == [
        "row 2, column referencia_caso: a value is required",
        "row 2, column fecha_recepcion: a value is required",
    ]


def test_ages_and_date_order(cast):
    outcome = preview(cast, only_row(edad_solicitud="200"))
    assert messages(outcome) == ["row 2, column edad_solicitud: An age must be between 0 and 110 years."]
    outcome = preview(cast, only_row(edad_solicitud="20", edad_reclutamiento="30"))
    assert "greater than the age at application" in messages(outcome)[0]
    outcome = preview(cast, only_row(fecha_recepcion="01/01/2024", estado="Acreditada", fecha_decision="01/12/2023"))
    assert "before the date the application was received" in messages(outcome)[0]
    future = (datetime.date.today() + datetime.timedelta(days=30)).strftime("%d/%m/%Y")
    assert (
        f"'{future}' was read as {future}, which is after today"
        in messages(preview(cast, only_row(fecha_recepcion=future)))[0]
    )


def test_decided_application_needs_a_decision_date(cast):
    outcome = preview(cast, only_row(estado="ACCREDITED", fecha_decision=""))
    assert "needs its decision date" in messages(outcome)[0]


def test_every_error_of_every_row_is_reported(cast):
    rows = samples.sample_rows(20)
    rows[4]["sexo"] = "zz"
    rows[16]["distrito"] = "Xyz"
    rows[16]["canton"] = "101"
    outcome = preview(cast, rows)
    assert [(e.row, e.column) for e in outcome.errors.items] == [(6, "sexo"), (18, "distrito")]
    assert outcome.total == 20


def test_formula_cells_are_row_and_column_errors(cast):
    rows = samples.sample_rows(2)
    rows[1]["edad_solicitud"] = "=2*20"
    outcome = preview(cast, rows, name="data.xlsx", data=samples.to_xlsx(rows))
    assert messages(outcome) == [
        "row 3, column edad_solicitud: the cell holds a formula; formulas are not evaluated, paste the values instead"
    ]


def test_row_longer_than_the_header_is_an_error(cast):
    data = b"referencia_caso,fecha_recepcion\r\nA,01/01/2024,extra\r\n"
    outcome = preview(cast, None, data=data)
    assert "more values than the header" in messages(outcome)[0]


def test_a_retired_code_is_still_accepted(cast):
    Code.objects.filter(list="sex", code="I").update(active=False)
    assert preview(cast, only_row(sexo="I")).ok


def test_lookups_prefer_a_code_over_a_label_that_reads_the_same():
    lookups = Lookups.load()
    female = Code.objects.get(list="sex", code="F").pk
    assert lookups.codes["sex"]["f"] == female


def test_preview_writes_nothing(cast):
    outcome = preview(cast, samples.sample_rows(5))
    assert outcome.new == 5 and not outcome.written
    assert Application.all_objects.count() == 0


# --- Issue 14, point 4: implausible dates are row errors that say what was read -----------------------------


def test_a_year_alone_in_a_date_cell_is_an_error_not_1905(cast):
    outcome = preview(cast, only_row(fecha_recepcion="2016"))
    assert messages(outcome) == [
        "row 2, column fecha_recepcion: '2016' is a year alone, not a date (as a date it reads 08/07/1905): "
        "write dd/mm/yyyy"
    ]
    rows = only_row(fecha_recepcion=2016)
    outcome = preview(cast, rows, name="data.xlsx", data=samples.to_xlsx(rows))
    assert "'2016' is a year alone" in messages(outcome)[0]


def test_a_year_alone_as_birth_date_is_an_error_without_echoing_it(cast):
    [message] = messages(preview(cast, only_row(fecha_nacimiento="1990")))
    assert message == "row 2, column fecha_nacimiento: this is a year alone, not a date: write dd/mm/yyyy"


def test_a_date_cell_before_the_floor_is_an_error_saying_what_was_read(cast):
    # A spreadsheet date cell holding 2016 typed into it: the cell is a real date of 1905.
    rows = only_row(fecha_recepcion=datetime.datetime(1905, 7, 8))
    outcome = preview(cast, rows, name="data.xlsx", data=samples.to_xlsx(rows))
    assert messages(outcome) == [
        "row 2, column fecha_recepcion: '1905-07-08' was read as 08/07/1905, before 01/01/1950: "
        "check the date (write dd/mm/yyyy)"
    ]


def test_the_floor_is_a_setting(cast, settings):
    settings.IMPORT_DATE_FLOOR = datetime.date(2000, 1, 1)
    outcome = preview(cast, only_row(fecha_recepcion="15/03/1999"))
    assert "'15/03/1999' was read as 15/03/1999, before 01/01/2000" in messages(outcome)[0]
    assert preview(cast, only_row(fecha_recepcion="15/03/2001", fecha_nacimiento="")).ok


def test_a_decision_date_after_today_is_an_error(cast):
    future = (datetime.date.today() + datetime.timedelta(days=3)).strftime("%d/%m/%Y")
    outcome = preview(cast, only_row(fecha_decision=future))
    assert messages(outcome) == [f"row 2, column fecha_decision: '{future}' was read as {future}, which is after today"]
