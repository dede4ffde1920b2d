"""The write of a confirmed import, one chunk at a time inside the import's transaction (records.imports.services
opens it): set-based inserts and updates, keys reserved up front, and every row's history row as a save() would
write it."""

from __future__ import annotations

import datetime
import operator

from django.apps import apps
from django.db import connection
from django.utils import timezone

from accounts.models import AccessEvent, Institution
from records import bulk
from records.deadlines import due_on as deadline_due_on
from records.keys import person_key
from records.models import (
    Application,
    ApplicationEvent,
    Decision,
    Identity,
    Person,
    Status,
)

from .compare import APP_FIELDS, COUNTRY_SETS, IDENTITY_FIELDS, M2M_FIELDS, _Current, target_column, through_model
from .decisions import decision_row, needs_decision
from .validation import Record

WITH_ERI = {Status.SUBMITTED.value, Status.UNDER_REVIEW.value}
HISTORY_REASON = "import"


def _history_m2m_model(name: str):
    return apps.get_model("records", f"HistoricalApplication_{name}")


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
