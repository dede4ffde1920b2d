"""Bulk import of applications: a dry run that classifies every row (new, updated, unchanged) and reports every
error, then a write of all rows in one transaction or none.

Rules enforced here:
- the institution comes from the import job (the officer's own), never from the file; a row naming another
  institution is an error;
- the key of an application is its institution plus the institution's own case reference, so importing the same
  file twice creates nothing new, and a re-import with changes updates those applications and writes history
  rows (django-simple-history tables) that record the change;
- an application the ERI has in hand (submitted, under review, decided) is not changed by an import: changing it
  takes the workflow, and a decision takes a new resolution;
- the person key is the same HMAC of the identity document as in single-application entry, so a person referred
  again (or by another institution) is recognised;
- writes are set-based: keys reserved up front, rows copied in chunks, reference data read once.
"""

from __future__ import annotations

import datetime
import operator
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from accounts.models import AccessEvent, Institution
from indicators.recompute.outbox import recompute_mark_changed
from records import bulk, facts
from records.deadlines import due_on as deadline_due_on
from records.keys import person_key
from records.models import (
    Application,
    ApplicationEvent,
    ApplicationExploitationCountry,
    ApplicationNationality,
    Decision,
    Identity,
    Person,
    Status,
)
from records.scopes import commit_hooks_unscoped

from . import heartbeat
from .columns import DECISION_KEYS
from .decisions import decision_problems, decision_row, needs_decision
from .models import ImportJob
from .parsing import ImportFileError, ParsedFile, check_upload, open_parsed
from .validation import MULTI_FIELDS, ErrorLog, Lookups, Record, RowValidator

CHUNK = 2000
EDITABLE = {Status.DRAFT.value, Status.INFO_REQUESTED.value}
WITH_ERI = {Status.SUBMITTED.value, Status.UNDER_REVIEW.value}
HISTORY_REASON = "import"

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


class ImportCancelled(Exception):
    """The officer cancelled: the transaction is rolled back and nothing is written."""


@dataclass
class ImportOutcome:
    total: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: ErrorLog = field(default_factory=ErrorLog)
    years: set[int] = field(default_factory=set)
    application_ids: list[int] = field(default_factory=list)  # the new and updated applications, once written
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


Progress = Callable[[str, int, int], None]


def _no_progress(phase: str, done: int, total: int) -> None:
    return None


def _never() -> bool:
    return False


def _m2m(name: str):
    return Application._meta.get_field(name)


# The link tables of the multi-valued facts, public because the import's export reads them the same way.
def through_model(name: str):
    """The link table of the many-to-many fact ``name`` (application id -> code)."""
    return _m2m(name).remote_field.through


def target_column(name: str) -> str:
    """The column of ``through_model(name)`` that holds the code."""
    return _m2m(name).m2m_reverse_name()


def _history_m2m_model(name: str):
    return apps.get_model("records", f"HistoricalApplication_{name}")


# A stored application's compared values are read as one tuple per application, in the order of COMPARED: the
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


def import_rows(
    *,
    parsed: ParsedFile,
    institution: Institution,
    user,
    write: bool,
    progress: Progress = _no_progress,
    is_cancelled: Callable[[], bool] = _never,
    lookups: Lookups | None = None,
) -> ImportOutcome:
    """Validate every row of ``parsed`` for ``institution``; classify each as new, updated or unchanged; and, when
    ``write`` and no row has an error, write them all in one transaction (or none, on any error or a cancel)."""
    outcome = ImportOutcome()
    lookups = lookups or Lookups.load()
    validator = RowValidator(parsed=parsed, institution=institution, lookups=lookups)
    estimated = parsed.estimated_rows
    records: list[Record] = []
    for record in validator:
        records.append(record)
        if len(records) % CHUNK == 0:
            progress("validating", len(records), estimated)
            if is_cancelled():
                raise ImportCancelled
    outcome.total = validator.rows_seen
    outcome.errors = validator.errors
    if outcome.total == 0 and not outcome.errors:
        raise ImportFileError(_("The file has a header row but no data rows."))
    if outcome.errors:
        return outcome
    if not write:
        _classify(records, validator, institution, user, outcome, progress, is_cancelled, write=False)
        return outcome
    try:
        with transaction.atomic():
            # One import per institution at a time: a second one waits here instead of racing on references.
            Institution.objects.select_for_update().filter(pk=institution.pk).first()
            _fast_commit()
            _classify(records, validator, institution, user, outcome, progress, is_cancelled, write=True)
            if outcome.errors:
                raise _RollBack
            # Every row is written: what remains is the commit (on PostgreSQL it runs the deferred constraint
            # checks, seconds for a large file) and then the recompute, each named on the job's page. The
            # recompute's own on-commit callback comes after this one (callbacks run in the order registered),
            # and robust: a lost progress write after the commit must not turn a written import into a failure.
            progress("saving", outcome.total, outcome.total)
            if outcome.years:
                transaction.on_commit(lambda: progress("recomputing", outcome.total, outcome.total), robust=True)
            # In the same transaction: the indicators learn of the change exactly when it is committed.
            with commit_hooks_unscoped():  # the recompute after the commit reads every record (records/scopes.py)
                recompute_mark_changed(application_ids=outcome.application_ids, years=outcome.years)
            outcome.written = True
    except _RollBack:
        outcome.written = False
    except IntegrityError:
        # A concurrent single-application entry took a reference between validation and write.
        outcome.errors.add(0, "", _("Another user changed these applications during the import; try again."))
        outcome.written = False
    return outcome


class _RollBack(Exception):
    pass


def _fast_commit() -> None:
    """PostgreSQL: do not wait for this transaction's WAL flush at commit. Durability is kept where it matters:
    the job row is then marked done in an ordinary (synchronous) commit, and flushing that commit's WAL flushes
    everything before it, so a job never reads "done" for an import a crash lost."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


def _classify(records, validator, institution, user, outcome, progress, is_cancelled, *, write: bool) -> None:
    absent = tuple(name for name in COMPARED if name not in validator.present)
    total = len(records)
    done = 0
    writer = _Writer(institution=institution, user=user) if write else None
    for start in range(0, total, CHUNK):
        chunk = records[start : start + CHUNK]
        current = _load_current(institution.pk, [r.case_reference for r in chunk])
        new, changed = [], []
        for record in chunk:
            existing = current.get(record.case_reference)
            _complete(record, absent, existing)
            if existing is None:
                new.append(record)
            elif not _differs(record, existing):
                outcome.unchanged += 1
            elif existing.get("status") not in EDITABLE:
                outcome.errors.add(
                    record.line,
                    "",
                    _(
                        "the application '%(reference)s' is already with the ERI (%(status)s) and an import cannot "
                        "change it"
                    )
                    % {"reference": record.case_reference, "status": Status(existing.get("status")).label},
                )
            else:
                changed.append((record, existing))
        decided = [r for r in new if needs_decision(r, None)] + [r for r, c in changed if needs_decision(r, c.record)]
        for line, column, message in decision_problems(decided, user=user, header=validator.header):
            outcome.errors.add(line, column, message)
        outcome.new += len(new)
        outcome.updated += len(changed)
        outcome.years |= import_affected_years(new=new, changed=changed)
        if writer is not None and not outcome.errors:
            _load_rows(changed)
            writer.create(new)
            writer.update(changed)
        done += len(chunk)
        progress("writing" if write else "comparing", done, total)
        if writer is not None:
            outcome.application_ids = writer.application_ids
        if is_cancelled():
            raise ImportCancelled


class _Writer:
    """Writes one chunk at a time inside the import's transaction. Every row gets its history row, as a save()
    would: '+' for a new person, identity or application, '~' for a changed one, with the application's facts
    copied into the many-to-many history tables."""

    def __init__(self, *, institution: Institution, user):
        self.institution = institution
        self.user_id = getattr(user, "pk", None)
        self.now = timezone.now()
        self.app_columns = bulk.columns_of(Application)
        self.history = Application.history.model
        self.due_dates: dict[datetime.date, datetime.date] = {}
        self.person_history = Person.history.model
        self.identity_history = Identity.history.model
        self.application_ids: list[int] = []  # every application written, for the indicators' outbox
        self.history_meta = {
            "history_date": self.now,
            "history_change_reason": HISTORY_REASON,
            "history_user_id": self.user_id,
        }

    # --- helpers ---------------------------------------------------------------------------------------------

    def _history_insert(self, history_model, rows: list[dict], history_type: str, history_ids: list[int] | None):
        meta = {**self.history_meta, "history_type": history_type}
        tracked = [
            f for f in history_model._meta.concrete_fields if f.attname not in meta and f.attname != "history_id"
        ]
        # Tracked values straight from the row (itemgetter runs in C), then the history columns, the same for all.
        columns = [f.column for f in tracked] + [history_model._meta.get_field(name).column for name in meta]
        constant = tuple(meta.values())
        values_of = operator.itemgetter(*(f.attname for f in tracked))
        if history_ids is None:
            tuples = (values_of(row) + constant for row in rows)
        else:
            columns.append("history_id")
            tuples = (values_of(row) + constant + (hid,) for row, hid in zip(rows, history_ids, strict=True))
        bulk.insert_rows(history_model, columns, tuples)

    def _app_row(self, record: Record, *, app_id: int, person_id: int, base: dict | None) -> dict:
        row = (
            dict(base)
            if base
            else {
                "id": app_id,
                "institution_id": self.institution.pk,
                "person_id": person_id,
                "submitted_at": None,
                "due_on": None,
                "narrative": "",
                "version": 0,
                "created_by_id": self.user_id,
                "created_at": self.now,
            }
        )
        for attr, attname in APP_FIELDS.items():
            row[attname] = getattr(record, attr)
        if record.status != Status.DRAFT and row["submitted_at"] is None:
            # Loaded from the institution's own records: it reached the ERI on the day it was received.
            row["submitted_at"] = timezone.make_aware(
                datetime.datetime.combine(record.received_on, datetime.time(12)), timezone.get_default_timezone()
            )
        if record.status in WITH_ERI and row["due_on"] is None:
            row["due_on"] = self._due_on(record.received_on)
        row["birth_date_known"] = record.birth_date is not None
        row["version"] = row["version"] + 1
        row["updated_at"] = self.now
        return row

    def _due_on(self, received_on: datetime.date) -> datetime.date:
        if received_on not in self.due_dates:
            self.due_dates[received_on] = deadline_due_on(received_on)
        return self.due_dates[received_on]

    def _status_events(self, moves: list[tuple[int, str, str]]) -> None:
        """A workflow event for every application whose status the import set or changed, so its history
        reads like one moved through the workflow (by whom, when, and that it was an import)."""
        if moves:
            bulk.insert_rows(
                ApplicationEvent,
                ["application_id", "from_status", "to_status", "at", "by_id", "comment"],
                ((app_id, old, new, self.now, self.user_id, HISTORY_REASON) for app_id, old, new in moves),
            )

    def _identity_row(self, record: Record, person_id: int, identity_id: int) -> dict:
        return {
            "id": identity_id,
            "person_id": person_id,
            **{name: getattr(record, name) if getattr(record, name) is not None else "" for name in IDENTITY_FIELDS},
            "birth_date": record.birth_date,
            "phone": "",
            "email": "",
            "address": "",
        }

    def _insert_model(self, model, rows: list[dict]) -> None:
        columns = bulk.columns_of(model)
        values_of = operator.itemgetter(*(a for a, _c in columns))
        bulk.insert_rows(model, [c for _a, c in columns], (values_of(row) for row in rows))

    def _write_facts(self, pairs: list[tuple[int, Record]], history_ids: dict[int, int]) -> None:
        """The many-to-many facts and countries of these applications, and the facts' history snapshot."""
        quote = connection.ops.quote_name
        history_table = quote(self.history._meta.db_table)
        # Our own reserved integers, written as literals: a list of 5,000 parameters costs more to bind than
        # the statement costs to run.
        chunk_history = ", ".join(str(int(pk)) for pk in history_ids.values()) or "NULL"
        for name in M2M_FIELDS:
            through = through_model(name)
            target = target_column(name)
            links = [(app_id, value) for app_id, record in pairs for value in getattr(record, name)]
            if not links:
                continue
            bulk.insert_rows(through, ["application_id", target], links)
            # The history snapshot is copied inside the database (the links numbered by it, each with its
            # application's new history row), rather than read back into Python and written again.
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {quote(_history_m2m_model(name)._meta.db_table)} "  # noqa: S608
                    f"(id, application_id, {quote(target)}, history_id) "
                    f"SELECT t.id, t.application_id, t.{quote(target)}, h.history_id "
                    f"FROM {quote(through._meta.db_table)} t JOIN {history_table} h ON h.id = t.application_id "
                    f"WHERE h.history_id IN ({chunk_history})"
                )
        for name, model in COUNTRY_SETS.items():
            links = [(app_id, value) for app_id, record in pairs for value in getattr(record, name)]
            if links:
                bulk.insert_rows(model, ["application_id", "country"], links)

    def decisions(self, pairs: list[tuple[int, Record]]) -> None:
        """The ERI resolution of each application loaded as decided (checked by decisions.decision_problems): a
        Decision row with its history row (reason "import"), and an audit row saying it was imported, by whom."""
        if not pairs:
            return
        rows = [
            decision_row(record, decision_id=pk, application_id=app_id, user_id=self.user_id, now=self.now)
            for pk, (app_id, record) in zip(bulk.reserve_ids(Decision, len(pairs)), pairs, strict=True)
        ]
        self._insert_model(Decision, rows)
        self._history_insert(Decision.history.model, rows, "+", None)
        AccessEvent.objects.bulk_create(
            AccessEvent(
                user_id=self.user_id,
                action=AccessEvent.Action.IMPORT,
                object_type=Decision._meta.label_lower,
                object_id=str(row["id"]),
                detail=f"resolution imported; application={row['application_id']}",
            )
            for row in rows
        )

    # --- new applications ------------------------------------------------------------------------------------

    def create(self, records: list[Record]) -> None:
        if not records:
            return
        # One person per application, as in single entry: the same person in another application (or another
        # institution) is recognised by the person key, never by sharing a row.
        person_ids = bulk.reserve_ids(Person, len(records))
        person_of = person_ids
        person_rows, identity_rows = [], []
        for record, pk in zip(records, person_ids, strict=True):
            key = person_key(record.document_type, record.document_number)
            person_rows.append(
                {"id": pk, "institution_id": self.institution.pk, "person_key": key, "created_at": self.now}
            )
        self._insert_model(Person, person_rows)
        self._history_insert(self.person_history, person_rows, "+", None)
        identity_ids = bulk.reserve_ids(Identity, len(records))
        for record, pk, identity_id in zip(records, person_ids, identity_ids, strict=True):
            identity_rows.append(self._identity_row(record, pk, identity_id))
        self._insert_model(Identity, identity_rows)
        self._history_insert(self.identity_history, identity_rows, "+", None)

        app_ids = bulk.reserve_ids(Application, len(records))
        self.application_ids += app_ids
        app_rows = [
            self._app_row(record, app_id=app_ids[i], person_id=person_of[i], base=None)
            for i, record in enumerate(records)
        ]
        self._insert_model(Application, app_rows)
        history_ids = bulk.reserve_ids(self.history, len(app_rows))
        self._history_insert(self.history, app_rows, "+", history_ids)
        self._write_facts(list(zip(app_ids, records, strict=True)), dict(zip(app_ids, history_ids, strict=True)))
        self._status_events([(row["id"], "", row["status"]) for row in app_rows if row["status"] != Status.DRAFT])
        self.decisions([(app_id, r) for app_id, r in zip(app_ids, records, strict=True) if needs_decision(r, None)])

    # --- changed applications --------------------------------------------------------------------------------

    def update(self, changed: list[tuple[Record, _Current]]) -> None:
        if not changed:
            return
        app_rows = [self._app_row(r, app_id=c.app["id"], person_id=c.app["person_id"], base=c.app) for r, c in changed]
        self.application_ids += [row["id"] for row in app_rows]
        update_fields = [*APP_FIELDS.values(), "birth_date_known", "submitted_at", "due_on", "version", "updated_at"]
        Application.all_objects.bulk_update(
            [Application(**{k: row[k] for k in ["id", *update_fields]}) for row in app_rows],
            [f.removesuffix("_id") for f in update_fields],
            batch_size=500,
        )
        self._status_events(
            [(c.app["id"], c.app["status"], r.status) for r, c in changed if r.status != c.app["status"]]
        )
        self.decisions([(c.app["id"], r) for r, c in changed if needs_decision(r, c.record)])

        # Identity and person key, where they changed.
        identity_updates, identity_new, person_updates = [], [], []
        for record, current in changed:
            if all(getattr(record, n) == getattr(current.record, n) for n in IDENTITY_FIELDS):
                continue
            person_id = current.app["person_id"]
            if current.identity_id is None:
                identity_new.append((record, person_id))
            else:
                identity_updates.append(self._identity_row(record, person_id, current.identity_id))
            key = person_key(record.document_type, record.document_number)
            if key != current.person_key:
                person_updates.append({"id": person_id, "institution_id": self.institution.pk, "person_key": key})
        if identity_updates:
            Identity.objects.bulk_update(
                [Identity(**{k: row[k] for k in ("id", "person_id", *IDENTITY_FIELDS)}) for row in identity_updates],
                list(IDENTITY_FIELDS),
                batch_size=500,
            )
            full = {
                i["id"]: i
                for i in Identity.objects.filter(pk__in=[r["id"] for r in identity_updates]).values(
                    *(a for a, _c in bulk.columns_of(Identity))
                )
            }
            self._history_insert(self.identity_history, [full[r["id"]] for r in identity_updates], "~", None)
        if identity_new:
            ids = bulk.reserve_ids(Identity, len(identity_new))
            rows = [self._identity_row(r, p, i) for (r, p), i in zip(identity_new, ids, strict=True)]
            self._insert_model(Identity, rows)
            self._history_insert(self.identity_history, rows, "+", None)
        if person_updates:
            Person.objects.bulk_update(
                [Person(id=p["id"], person_key=p["person_key"]) for p in person_updates], ["person_key"]
            )
            full = {
                p["id"]: p
                for p in Person.objects.filter(pk__in=[p["id"] for p in person_updates]).values(
                    "id", "institution_id", "person_key", "created_at"
                )
            }
            self._history_insert(self.person_history, [full[p["id"]] for p in person_updates], "~", None)

        # Facts: replaced as a whole, then snapshotted with the new history row.
        app_ids = [c.app["id"] for _r, c in changed]
        for name in M2M_FIELDS:
            through_model(name).objects.filter(application_id__in=app_ids).delete()
        for model in COUNTRY_SETS.values():
            model.objects.filter(application_id__in=app_ids).delete()
        history_ids = bulk.reserve_ids(self.history, len(app_rows))
        self._history_insert(self.history, app_rows, "~", history_ids)
        self._write_facts([(c.app["id"], r) for r, c in changed], dict(zip(app_ids, history_ids, strict=True)))


# --- Import jobs -------------------------------------------------------------------------------------------------


# The step a running job is at, as its page and the API name it (progress "phase"). "saving" and "recomputing"
# have no rows to count: the page shows them as a moving, full bar.
PHASES = {
    "waiting": pgettext_lazy("import step", "Waiting to start"),
    "validating": pgettext_lazy("import step", "Validating the rows"),
    "comparing": pgettext_lazy("import step", "Comparing with the stored applications"),
    "writing": pgettext_lazy("import step", "Writing the applications"),
    "saving": pgettext_lazy("import step", "Saving (the database checks and commits the write)"),
    "recomputing": pgettext_lazy("import step", "Recomputing the indicators"),
}
UNCOUNTED_PHASES = frozenset({"waiting", "saving", "recomputing"})


def phase_label(phase: str) -> str:
    """The step's name in the current language; a phase that is a job status (a finished job) by that status."""
    if phase in PHASES:
        return str(PHASES[phase])
    try:
        return str(ImportJob.Status(phase).label)
    except ValueError:
        return phase


def progress_key(job) -> str:
    # Keyed by the job's random token, not its id: ids are reused after a database restore.
    return f"records:import-progress:{job.token}"


def progress_read(*, job) -> dict:
    """Rows done of total for the progress bar: from the cache while a task runs (its transaction hides the
    job row's updates), else from the job row."""
    cached = cache.get(progress_key(job)) if job.is_running else None
    if cached:
        return cached
    # A runner process of the embedded mode has a cache of its own: its heartbeat file carries the progress.
    beat = heartbeat.heartbeat_read(job)[0] if job.is_running else None
    if beat:
        return beat
    return {"phase": job.status, "done": job.rows_done, "total": job.rows_total}


def _job_progress(job) -> Progress:
    def report(phase: str, done: int, total: int) -> None:
        cache.set(progress_key(job), {"phase": phase, "done": done, "total": max(total, done)}, 3600)
        heartbeat.heartbeat_write(job, phase=phase, done=done, total=total)
        heartbeat.pause_for_fault_tests(phase)

    return report


def _job_cancelled(job) -> Callable[[], bool]:
    def check() -> bool:
        # A committed cancel from the officer's request is visible here (READ COMMITTED), also mid-transaction.
        return (
            bool(cache.get(progress_key(job) + ":cancel"))
            or ImportJob.objects.filter(pk=job.pk, cancelled=True).exists()
        )

    return check


def import_job_create(*, user, institution: Institution, upload) -> ImportJob:
    """Store an uploaded file for ``institution`` after the checks that need no parsing (name, size, content
    type); raises ImportFileError. The institution is the caller's choice among the officer's own."""
    kind = check_upload(upload.name, upload.size)
    job = ImportJob(
        token=secrets.token_hex(16),
        user=user,
        institution=institution,
        original_name=upload.name[-200:],
        file_kind=kind,
        size=upload.size,
        language=translation.get_language() or "es",
    )
    job.file.save(f"upload.{kind}", upload, save=False)
    job.save()
    return job


def _finish(job, outcome: ImportOutcome | None, status: str, *, errors: list[dict] | None = None) -> None:
    job.status = status
    if outcome is not None:
        job.rows_total = outcome.total
        job.rows_done = outcome.total if status in (ImportJob.Status.PREVIEWED, ImportJob.Status.DONE) else 0
        job.count_new, job.count_updated, job.count_unchanged = outcome.new, outcome.updated, outcome.unchanged
        job.error_count = outcome.errors.total
        job.errors = [e.as_dict() | {"text": str(e)} for e in outcome.errors.items]
        job.affected_years = sorted(outcome.years) if outcome.written else []
    if errors is not None:
        job.errors = errors
        job.error_count = len(errors)
    job.finished_at = timezone.now()
    heartbeat.heartbeat_delete(job)  # the run is over, whatever its outcome
    if status != ImportJob.Status.PREVIEWED and job.file:
        # The uploaded file holds identity data: keep it only while it waits for confirmation.
        job.file.delete(save=False)
    job.save()
    cache.delete(progress_key(job))


def import_job_fail(*, job, message: str) -> None:
    """Close a job whose run cannot finish (its runner died: records.imports.runner.import_jobs_sweep) as failed,
    saying ``message``, and delete its file."""
    _finish(job, None, ImportJob.Status.FAILED, errors=[{"row": 0, "column": "", "message": message, "text": message}])


def _run_job(job, *, write: bool) -> ImportOutcome | None:
    with translation.override(job.language):
        try:
            parsed = open_parsed(job.file.path, name=job.original_name)
            outcome = import_rows(
                parsed=parsed,
                institution=job.institution,
                user=job.user,
                write=write,
                progress=_job_progress(job),
                is_cancelled=_job_cancelled(job),
            )
        except ImportFileError as problem:
            _finish(
                job,
                None,
                ImportJob.Status.INVALID,
                errors=[{"row": 0, "column": "", "message": problem.message, "text": problem.message}],
            )
            return None
        except ImportCancelled:
            _finish(job, None, ImportJob.Status.CANCELLED)
            return None
        except Exception:
            # A fault of the portal, not of the file: the transaction has rolled back; say so instead of leaving
            # the job "running" for ever, then let the error be logged (by the worker or the request handler).
            message = _("The import stopped because of an error in the portal; nothing was written. Try again later.")
            _finish(
                job,
                None,
                ImportJob.Status.FAILED,
                errors=[{"row": 0, "column": "", "message": message, "text": message}],
            )
            raise
        if write:
            _finish(job, outcome, ImportJob.Status.DONE if outcome.written else ImportJob.Status.FAILED)
        else:
            _finish(job, outcome, ImportJob.Status.PREVIEWED if outcome.ok else ImportJob.Status.INVALID)
        return outcome


def import_preview(*, job_id: int) -> ImportOutcome | None:
    """The dry run: validate and classify every row, write nothing but the job's counts and errors."""
    job = ImportJob.objects.select_related("institution", "user").get(pk=job_id)
    if job.status != ImportJob.Status.PREVIEWING:
        return None  # already ran (a redelivered task)
    if job.cancelled:
        _finish(job, None, ImportJob.Status.CANCELLED)
        return None
    return _run_job(job, write=False)


def import_confirm(*, job_id: int) -> ImportOutcome | None:
    """Write every row in one transaction or none. Validation runs again on the stored file, since records may
    have changed since the preview. Idempotent: a job that is not waiting to import does nothing."""
    waiting = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.IMPORTING, finished_at=None)
    job = waiting.select_related("institution", "user").first()
    if job is None:
        return None
    if job.cancelled:  # cancelled while queued
        _finish(job, None, ImportJob.Status.CANCELLED)
        return None
    return _run_job(job, write=True)


def import_cancel(*, job) -> None:
    """Stop a preview or an import; a running write rolls back, so nothing is written."""
    if job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED, ImportJob.Status.CANCELLED):
        return
    ImportJob.objects.filter(pk=job.pk).update(cancelled=True)
    cache.set(progress_key(job) + ":cancel", True, 3600)
    if not job.is_running:
        job.refresh_from_db()
        _finish(job, None, ImportJob.Status.CANCELLED)


def import_job_start(*, job) -> bool:
    """Move a previewed job to importing (once: a double click starts one import)."""
    return bool(
        ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.PREVIEWED, cancelled=False).update(
            status=ImportJob.Status.IMPORTING, finished_at=None, rows_done=0
        )
    )


def import_jobs_expire(*, older_than: datetime.timedelta = datetime.timedelta(days=1)) -> int:
    """Retention of uploaded files (they hold identity data): a job left waiting for confirmation is cancelled,
    and one left "running" (its worker lost) is marked failed, after ``older_than``; either way its file is
    deleted. Returns how many jobs were closed. Idempotent; meant for a daily Celery beat entry."""
    limit = timezone.now() - older_than
    closed = 0
    stale = ImportJob.objects.filter(
        updated_at__lt=limit,
        status__in=[ImportJob.Status.PREVIEWED, ImportJob.Status.PREVIEWING, ImportJob.Status.IMPORTING],
    )
    for job in stale.select_related("institution"):
        if job.status == ImportJob.Status.PREVIEWED:
            _finish(job, None, ImportJob.Status.CANCELLED)
        else:
            with translation.override(job.language):
                message = _("The import did not finish; nothing was written. Upload the file again.")
            _finish(
                job,
                None,
                ImportJob.Status.FAILED,
                errors=[{"row": 0, "column": "", "message": message, "text": message}],
            )
        closed += 1
    return closed
