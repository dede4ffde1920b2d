"""Row validation: every row is checked before anything is written, and each problem is reported by row and
column in the user's language, e.g. "fila 997, columna distrito: 'Xyz' no es un distrito del cantón 101".

Forgiving where it is safe: codes are accepted as the code or the Spanish or English label, ignoring case and
accents; dates as dd/mm/yyyy, ISO (yyyy-mm-dd) or an Excel serial number. The reference data (codes, geography,
countries, languages) is read once per import into dictionaries, so validating a row touches no database.
Identity values are never echoed back in a message (they would end up on an error page).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from records.facts import MULTI_VALUED_FIELDS, PLACES, place_fields
from records.models import CodeList, Status
from records.validation import application_values_check, place_levels

from .columns import CANTON_OF, MULTI_SEPARATORS, Column, normalise

# The reference data (lookups.py) and the error log (errors.py) have modules of their own; the import's services,
# the tests and the benchmarks name them from here, as before.
from .errors import ErrorLog
from .lookups import AMBIGUOUS, Lookups
from .parsing import FormulaCell, ParsedFile, is_overflow

MAX_VOTES = 99  # as the decision form's
FORMULA_STARTS = ("=", "+", "-", "@")
EXCEL_EPOCH = datetime.date(1899, 12, 30)
# A whole number in this range in a date cell is a year typed alone, not a serial day (those are days of 1905).
YEAR_ALONE = (1800, 2200)
# Dates of the case (not of the person): before settings.IMPORT_DATE_FLOOR or after today they are implausible.
CASE_DATES = ("received_on", "decided_on")
DECIDED = {Status.ACCREDITED.value, Status.NOT_ACCREDITED.value}
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?$")
# The column a problem is reported on when its own column is absent from the file.
_COLUMN_FOR = {"document_number": "document_type", "document_type": "document_number", "birth_date": "received_on"}
_MAX_LENGTH = {
    "resolution_number": 60,
    "case_reference": 60,
    "document_number": 50,
    "given_names": 150,
    "family_names": 150,
}


class Record:
    """One validated row, compact (slots, tuples) so that 100,000 of them fit comfortably in memory."""

    __slots__ = (
        "line",
        "case_reference",
        "received_on",
        "status",
        "decided_on",
        "resolution_number",
        "votes_in_favour",
        "votes_against",
        "abstentions",
        "decision_reasons",
        "document_type",
        "document_number",
        "given_names",
        "family_names",
        "birth_date",
        "sex",
        "gender_identity",
        "age_at_application",
        "age_at_recruitment",
        "nationalities",
        "migration_status",
        "education_level",
        "occupation",
        "mother_tongue",
        "residence_province",
        "residence_canton",
        "residence_district",
        "exploitation_forms",
        "sexual_exploitation_types",
        "labour_sectors",
        "means",
        "acts",
        "recruitment_methods",
        "control_methods",
        "relationship_to_trafficker",
        "recruitment_province",
        "recruitment_canton",
        "recruitment_district",
        "recruitment_country",
        "exploitation_districts",
        "exploitation_countries",
    )
    # The values the services read by name (the others are read through ``get``).
    line: int
    case_reference: str
    received_on: datetime.date
    status: str
    decided_on: datetime.date | None
    resolution_number: str | None
    votes_in_favour: int | None
    votes_against: int | None
    abstentions: int | None
    decision_reasons: str | None
    document_type: str | None
    document_number: str | None
    birth_date: datetime.date | None
    age_at_application: int | None
    age_at_recruitment: int | None
    recruitment_country: str | None

    def __init__(self, line: int):
        self.line = line
        for name in self.__slots__[1:]:
            setattr(self, name, None)

    def get(self, name: str):
        return getattr(self, name)


MULTI_FIELDS = MULTI_VALUED_FIELDS


class _Invalid(Exception):  # noqa: N818  (a result as much as an error: memoised per cell value)
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _text(raw) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, datetime.datetime | datetime.date):
        return raw.isoformat()
    return str(raw).strip()


def parse_date(raw, *, echo: bool = True) -> datetime.date | None:
    """dd/mm/yyyy, ISO yyyy-mm-dd, an Excel serial number, or a date cell of a spreadsheet."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, datetime.datetime):
        return raw.date()
    if isinstance(raw, datetime.date):
        return raw
    text = _text(raw)
    if not text:
        return None
    try:
        if match := _DMY.match(text):
            day, month, year = (int(g) for g in match.groups())
            return datetime.date(year, month, day)
        if match := _ISO.match(text):
            year, month, day = (int(g) for g in match.groups())
            return datetime.date(year, month, day)
        if re.fullmatch(r"\d{1,6}(\.0+)?", text):
            serial = int(float(text))
            if YEAR_ALONE[0] <= serial <= YEAR_ALONE[1]:
                # "2016" typed in a date cell: as a serial day it is 08/07/1905, which nobody meant.
                read = (EXCEL_EPOCH + datetime.timedelta(days=serial)).strftime("%d/%m/%Y")
                if echo:
                    raise _Invalid(
                        _("'%(value)s' is a year alone, not a date (as a date it reads %(date)s): write dd/mm/yyyy")
                        % {"value": text, "date": read}
                    )
                raise _Invalid(_("this is a year alone, not a date: write dd/mm/yyyy"))
            # Serial 60 is Excel's non-existent 29/02/1900; nothing in these records is that old anyway.
            if 1 <= serial <= 2958465:
                return EXCEL_EPOCH + datetime.timedelta(days=serial)
    except ValueError:
        pass
    if echo:
        raise _Invalid(_("'%(value)s' is not a date (use dd/mm/yyyy)") % {"value": text})
    raise _Invalid(_("this is not a valid date (use dd/mm/yyyy)"))


def _split(raw) -> list[str]:
    text = _text(raw)
    if not text:
        return []
    return [part for part in MULTI_SEPARATORS.split(text) if part]


class RowValidator:
    """Turns raw rows into Records for one institution, collecting errors instead of stopping at the first."""

    def __init__(self, *, parsed: ParsedFile, institution, lookups: Lookups, today: datetime.date | None = None):
        self.parsed = parsed
        self.institution = institution
        self.lookups = lookups
        self.today = today or timezone.localdate()
        self.floor = settings.IMPORT_DATE_FLOOR
        self.errors = ErrorLog()
        self.seen_references: dict[str, int] = {}
        self.rows_seen = 0
        self.code_list_labels = {c: str(label) for c, label in CodeList.choices}
        own = {normalise(institution.code), normalise(institution.name_es), normalise(institution.name_en)}
        self.own_institution_keys = own
        given = {c.key for c in parsed.columns}
        # A place is one value at the level given: a file with any level of it states the whole place (the
        # levels it leaves out are blank or derived), so no stored level of the old place is kept beside it.
        for place in PLACES:
            if given & set(place_fields(place)):
                given |= set(place_fields(place))
        self.present = frozenset(given)
        self.header = dict(zip((c.key for c in parsed.columns), parsed.headers, strict=False))
        self.geography = lookups.geography()
        self.cells: list[tuple[Column, str, dict | None]] = [
            (column, header, None if column.identity or column.kind == "text" else {})
            for column, header in zip(parsed.columns, parsed.headers, strict=False)
        ]

    def __iter__(self) -> Iterator[Record]:
        for line, cells in self.parsed.rows:
            self.rows_seen += 1
            record = self.validate(line, cells)
            if record is not None:
                yield record

    def validate(self, line: int, cells: list) -> Record | None:
        record = Record(line)
        ok = True
        if cells and is_overflow(cells[-1]):
            self.errors.add(line, "", _("the row has more values than the header has columns"))
            return None
        values: dict[str, object] = {}
        for (column, header, memo), raw in zip(self.cells, cells, strict=False):
            if isinstance(raw, FormulaCell):
                self.errors.add(
                    line, header, _("the cell holds a formula; formulas are not evaluated, paste the values instead")
                )
                ok = False
                continue
            if memo is None:
                try:
                    value = self._convert(column, raw, values)
                except _Invalid as problem:
                    value = problem
            else:
                # Reference values repeat on every row: convert each distinct cell once.
                key = (values.get(CANTON_OF[column.key]), raw) if column.kind == "district" else raw
                try:
                    value = memo[key]
                except KeyError:
                    try:
                        value = self._convert(column, raw, values)
                    except _Invalid as problem:
                        value = problem
                    memo[key] = value
            if isinstance(value, _Invalid):
                self.errors.add(line, header, value.message)
                ok = False
                value = None
            values[column.key] = value
        if not ok:
            return None
        for key, value in values.items():
            if key != "institution":
                setattr(record, key, value)
        if not self._check_row(record, values):
            return None
        for name, code in place_levels(values, geography=self.geography).items():
            setattr(record, name, code)
        return record

    # --- cells ---------------------------------------------------------------------------------------------

    def _convert(self, column: Column, raw, values: dict):
        kind = column.kind
        value: Any  # a date, a code, a district, ... depending on the column's kind
        text = _text(raw) if kind != "date" else raw
        if column.required and (text is None or text == ""):
            raise _Invalid(_("a value is required"))
        if kind == "text":
            return self._plain_text(column, text)
        if kind == "date":
            value = parse_date(raw, echo=not column.identity)
            if value and column.key in CASE_DATES:
                self._plausible(value, raw)
            return value
        if not text:
            return () if column.multi else ("" if kind in ("country", "document_type") else None)
        if kind == "int":
            return self._whole_number(text)
        if kind == "code":
            return self._code(column, text)
        if kind == "codes":
            return tuple(sorted({self._code(column, part) for part in _split(text)}))
        if kind == "status":
            value = self.lookups.status.get(normalise(text))
            if value is None or value is AMBIGUOUS:
                raise _Invalid(self._not_in_list(text, column))
            return value
        if kind == "document_type":
            value = self.lookups.document_types.get(normalise(text))
            if value is None or value is AMBIGUOUS:
                raise _Invalid(_("this is not a known identity document type (see the codes sheet)"))
            return value
        if kind == "institution":
            if normalise(text) not in self.own_institution_keys:
                raise _Invalid(
                    _("'%(value)s' is another institution: this import is for %(institution)s only")
                    % {"value": text, "institution": self.institution.code}
                )
            return self.institution.pk
        if kind in ("province", "canton", "district", "districts"):
            return self._place(column, text, values)
        if kind == "country":
            return self._country(text)
        if kind == "countries":
            return tuple(sorted({self._country(part) for part in _split(text)}))
        if kind == "language":
            value = self.lookups.languages.get(normalise(text))
            if value is None or value is AMBIGUOUS:
                raise _Invalid(_("'%(value)s' is not a known language") % {"value": text})
            return value
        raise AssertionError(kind)

    @staticmethod
    def _plain_text(column: Column, text: str) -> str:
        if text.startswith("="):
            # A formula saved as text (CSV): refused like a formula cell, and it must never reach an export.
            raise _Invalid(_("the cell holds a formula; formulas are not evaluated, paste the values instead"))
        if text[:1] == "'" and text[1:2] in FORMULA_STARTS:
            text = text[1:]  # the export's protective quote (see exports.spreadsheet_safe)
        limit = _MAX_LENGTH.get(column.key)
        if limit and len(text) > limit:
            raise _Invalid(_("the value is longer than %(max)s characters") % {"max": limit})
        return text

    @staticmethod
    def _whole_number(text: str) -> int:
        try:
            number = float(text.replace(",", "."))
        except ValueError:
            number = 0.5  # a float: int.is_integer only exists from Python 3.12
        if not number.is_integer() or abs(number) > 10**6:
            raise _Invalid(_("'%(value)s' is not a whole number") % {"value": text})
        return int(number)  # its range is checked with the row (records.validation)

    def _place(self, column: Column, text: str, values: dict):
        """A province, canton or district (or several districts), by code or name; a district within the
        row's canton when the row names one."""
        value: Any
        if column.kind == "province":
            value = self.lookups.provinces.get(normalise(text))
            if value is None or value is AMBIGUOUS:
                raise _Invalid(_("'%(value)s' is not a province") % {"value": text})
            return value
        if column.kind == "canton":
            value = self.lookups.cantons.get(normalise(text))
            if value is None:
                raise _Invalid(_("'%(value)s' is not a canton") % {"value": text})
            if value is AMBIGUOUS:
                raise _Invalid(_("'%(value)s' names several cantons: give its code") % {"value": text})
            return value
        if column.kind == "district":
            canton = values.get(CANTON_OF[column.key])
            if canton:
                value = self.lookups.districts_in_canton.get(canton, {}).get(normalise(text))
                if value is None:
                    raise _Invalid(
                        _("'%(value)s' is not a district of canton %(canton)s") % {"value": text, "canton": canton}
                    )
            else:
                value = self.lookups.districts.get(normalise(text))
                if value is None:
                    raise _Invalid(_("'%(value)s' is not a district") % {"value": text})
            if value is AMBIGUOUS:
                raise _Invalid(_("'%(value)s' names several districts: give its code or the canton") % {"value": text})
            return value
        if column.kind == "districts":
            found = []
            for part in _split(text):
                value = self.lookups.districts.get(normalise(part))
                if value is None:
                    raise _Invalid(_("'%(value)s' is not a district") % {"value": part})
                if value is AMBIGUOUS:
                    raise _Invalid(_("'%(value)s' names several districts: give its code") % {"value": part})
                found.append(value)
            return tuple(sorted(set(found)))
        raise AssertionError(column.kind)

    def _plausible(self, value: datetime.date, raw) -> None:
        """A date of the case before the floor or after today is refused, saying what was read."""
        read = {"value": _text(raw), "date": value.strftime("%d/%m/%Y")}
        if value < self.floor:
            raise _Invalid(
                _("'%(value)s' was read as %(date)s, before %(floor)s: check the date (write dd/mm/yyyy)")
                % {**read, "floor": self.floor.strftime("%d/%m/%Y")}
            )
        if value > self.today:
            raise _Invalid(_("'%(value)s' was read as %(date)s, which is after today") % read)

    def _not_in_list(self, text: str, column: Column) -> str:
        return _("'%(value)s' is not a value of the list \"%(list)s\" (see the codes sheet of the template)") % {
            "value": text,
            "list": self.code_list_labels.get(column.code_list, column.code_list),
        }

    def _code(self, column: Column, text: str) -> int:
        value = self.lookups.codes.get(column.code_list, {}).get(normalise(text))
        if value is None or value is AMBIGUOUS:
            raise _Invalid(self._not_in_list(text, column))
        return value

    def _country(self, text: str) -> str:
        value = self.lookups.countries.get(normalise(text))
        if value is None or value is AMBIGUOUS:
            raise _Invalid(_("'%(value)s' is not a country (use its name or ISO code)") % {"value": text})
        return value

    # --- whole row -----------------------------------------------------------------------------------------

    def _check_row(self, record: Record, values: dict) -> bool:
        ok = True
        header = self.header
        reference = record.case_reference
        first = self.seen_references.get(reference)
        if first is not None:
            self.errors.add(
                record.line,
                header["case_reference"],
                _("the case reference '%(value)s' is repeated (first in row %(first)s)")
                % {"value": reference, "first": first},
            )
            ok = False
        else:
            self.seen_references[reference] = record.line
        if record.decided_on and record.received_on and record.decided_on < record.received_on:
            self.errors.add(
                record.line,
                header["decided_on"],
                _("the decision date is before the date the application was received"),
            )
            ok = False
        if record.status in DECIDED and not record.decided_on:
            self.errors.add(
                record.line,
                header.get("decided_on", header["status"]),
                _("a decided application needs its decision date"),
            )
            ok = False
        for key in ("votes_in_favour", "votes_against", "abstentions"):
            votes = getattr(record, key)
            if votes is not None and not 0 <= votes <= MAX_VOTES:
                self.errors.add(
                    record.line, header[key], _("a number of votes is from 0 to %(max)s") % {"max": MAX_VOTES}
                )
                ok = False
        # The domain rules every entry path shares (records.validation), on the columns the file has.
        for name, problems in application_values_check(values, today=self.today, geography=self.geography).items():
            column = header.get(name) or header.get(_COLUMN_FOR.get(name, ""), "")
            for problem in problems:
                self.errors.add(record.line, column, problem.message)
            ok = False
        return ok
