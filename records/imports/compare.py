"""An import's comparison with what is stored: the values an import compares (``COMPARED``), the stored state of
the file's applications read in a fixed number of queries (``_load_current``), what the file leaves out filled
from it (``_complete``), and the years an import changes. records.imports.services classifies each row with
these; records.imports.write writes the new and changed ones."""

from __future__ import annotations

import datetime
import operator

from django.db import connection

from records import bulk, facts
from records.models import (
    Application,
    ApplicationExploitationCountry,
    ApplicationNationality,
    Identity,
    Person,
    Status,
)

from .columns import DECISION_KEYS
from .validation import MULTI_FIELDS, Record

EDITABLE = {Status.DRAFT.value, Status.INFO_REQUESTED.value}

# Record attribute -> Application attname.
APP_FIELDS = {
    "case_reference": "case_reference",
    "received_on": "received_on",
    "status": "status",
    "decided_on": "decided_on",
    "sex": "sex_id",
    "gender_identity": "gender_identity_id",
    "age_at_application": "age_at_application",
    "age_at_recruitment": "age_at_recruitment",
    "migration_status": "migration_status_id",
    "education_level": "education_level_id",
    "occupation": "occupation_id",
    "mother_tongue": "mother_tongue_id",
    "residence_province": "residence_province_id",
    "residence_canton": "residence_canton_id",
    "residence_district": "residence_district_id",
    "relationship_to_trafficker": "relationship_to_trafficker_id",
    "recruitment_province": "recruitment_province_id",
    "recruitment_canton": "recruitment_canton_id",
    "recruitment_district": "recruitment_district_id",
    "recruitment_country": "recruitment_country",
}
IDENTITY_FIELDS = facts.IMPORTED_IDENTITY_FIELDS
M2M_FIELDS = facts.M2M_FIELDS
COUNTRY_SETS = {"nationalities": ApplicationNationality, "exploitation_countries": ApplicationExploitationCountry}
TEXT_DEFAULTS = {"case_reference", "document_number", "given_names", "family_names", "recruitment_country"}
COMPARED = tuple(name for name in Record.__slots__ if name != "line" and name not in DECISION_KEYS)


def _m2m(name: str):
    return Application._meta.get_field(name)


# The link tables of the multi-valued facts, public because the import's export reads them the same way.
def through_model(name: str):
    """The link table of the many-to-many fact ``name`` (application id -> code)."""
    return _m2m(name).remote_field.through


def target_column(name: str) -> str:
    """The column of ``through_model(name)`` that holds the code."""
    return _m2m(name).m2m_reverse_name()


# application's columns, then its identity's, then its sets of facts, put in that order in C (itemgetter).
_STORED_ORDER = (*APP_FIELDS, *IDENTITY_FIELDS, *MULTI_FIELDS)
assert sorted(_STORED_ORDER) == sorted(COMPARED), "every compared value is read from the database"
_POSITION = {name: position for position, name in enumerate(COMPARED)}
_to_compared = operator.itemgetter(*(_STORED_ORDER.index(name) for name in COMPARED))
_compared_values = operator.attrgetter(*COMPARED)
_NO_IDENTITY = tuple(
    Identity.DocumentType.NONE.value if name == "document_type" else None if name == "birth_date" else ""
    for name in IDENTITY_FIELDS
)


class _Current:
    """An existing application as stored: its compared values (``values``, in the order of COMPARED) and its ids.
    What only the write of a changed application needs (its whole row, its person key: ``_load_rows``) and the
    stored values as a Record (``record``) are made for the few that changed, not for every row of the file."""

    __slots__ = ("_record", "app", "app_id", "identity_id", "person_id", "person_key", "values")

    def __init__(self, values: tuple, *, app_id: int, person_id: int, identity_id: int | None):
        self.values = values
        self.app_id = app_id
        self.person_id = person_id
        self.identity_id = identity_id
        self.app: dict = {}
        self.person_key = ""
        self._record: Record | None = None

    def get(self, name: str):
        return self.values[_POSITION[name]]

    @property
    def record(self) -> Record:
        if self._record is None:
            self._record = Record(0)
            for name, value in zip(COMPARED, self.values, strict=True):
                setattr(self._record, name, value)
        return self._record


def _load_current(institution_id: int, references: list[str]) -> dict[str, _Current]:
    """The stored state of the applications with these references, in a fixed number of queries: only the values
    an import compares, as tuples (no model instance, no dict per row), each list of keys sent as one parameter
    (``bulk.among``). Comparing an unchanged file then costs about what validating it costs (issue 19: 4x)."""
    app_rows = list(
        Application.all_objects.filter(
            bulk.among(Application, "case_reference", references), institution_id=institution_id
        )
        .order_by()
        .values_list("id", "person_id", *APP_FIELDS.values())
    )
    if not app_rows:
        return {}
    ids = [row[0] for row in app_rows]
    identities = {
        row[0]: row[1:]
        for row in Identity.objects.filter(bulk.among(Identity, "person", [row[1] for row in app_rows]))
        .order_by()
        .values_list("person_id", "id", *IDENTITY_FIELDS)
    }
    multi: list[dict[int, tuple]] = []
    with connection.cursor() as cursor:
        for name in MULTI_FIELDS:
            model = COUNTRY_SETS.get(name) or through_model(name)
            target = "country" if name in COUNTRY_SETS else target_column(name)
            query = model.objects.filter(bulk.among(model, "application", ids)).order_by()
            # Integers and codes, which need no conversion: read straight from the cursor, not row by row
            # through the ORM (about 11 rows per application).
            cursor.execute(*query.values_list("application_id", target).query.sql_with_params())
            by_app: dict[int, list] = {}
            for app_id, value in cursor.fetchall():
                by_app.setdefault(app_id, []).append(value)
            multi.append({app_id: tuple(sorted(values)) for app_id, values in by_app.items()})
    current = {}
    for row in app_rows:
        app_id = row[0]
        identity = identities.get(row[1])
        sets = tuple([by_app.get(app_id, ()) for by_app in multi])
        values = _to_compared(row[2:] + (identity[1:] if identity else _NO_IDENTITY) + sets)
        current[values[_POSITION["case_reference"]]] = _Current(
            values, app_id=app_id, person_id=row[1], identity_id=identity[0] if identity else None
        )
    return current


def _load_rows(changed: list[tuple[Record, _Current]]) -> None:
    """The whole stored row and the person key of each changed application, which its update starts from."""
    if not changed:
        return
    by_id = {current.app_id: current for _record, current in changed}
    attnames = [attname for attname, _column in bulk.columns_of(Application)]
    for app in Application.all_objects.filter(pk__in=list(by_id)).order_by().values(*attnames):
        by_id[app["id"]].app = app
    keys = dict(Person.objects.filter(pk__in=[c.person_id for c in by_id.values()]).values_list("id", "person_key"))
    for current in by_id.values():
        current.person_key = keys.get(current.person_id, "")


def _age(birth: datetime.date, on: datetime.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _complete(record: Record, absent: tuple[str, ...], current: _Current | None) -> None:
    """Fill what the file does not say: a column absent from the file (``absent``: the compared names the file
    lacks) keeps the stored value (or the default of a new application); a blank status keeps the stored one."""
    for name in absent:
        if current is not None:
            setattr(record, name, current.get(name))
        elif name in MULTI_FIELDS:
            setattr(record, name, ())
        elif name in TEXT_DEFAULTS:
            setattr(record, name, "")
    if record.status is None:
        record.status = current.get("status") if current else Status.DRAFT.value
    if record.recruitment_country is None:
        record.recruitment_country = ""
    if not record.document_type:
        record.document_type = Identity.DocumentType.OTHER if record.document_number else Identity.DocumentType.NONE
    if record.birth_date and record.received_on:
        # As in single entry: a known birth date decides the age at application.
        record.age_at_application = _age(record.birth_date, record.received_on)


def _differs(record: Record, current: _Current) -> bool:
    return _compared_values(record) != current.values


def import_affected_years(*, new: list[Record], changed: list[tuple[Record, _Current]]) -> set[int]:
    """The years whose indicators an import changes: the received and decided years of every new application,
    and the old and new ones of every updated application; they are marked stale for the indicator engine in
    the import's own transaction."""
    years: set[int] = set()
    for record in new:
        years.update(d.year for d in (record.received_on, record.decided_on) if d)
    for record, current in changed:
        years.update(
            d.year
            for d in (record.received_on, record.decided_on, current.record.received_on, current.record.decided_on)
            if d
        )
    return years
