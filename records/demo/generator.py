"""The generator of synthetic applications: one chunk at a time, every table's rows as plain tuples in the column
order below (no model instances, nothing calls ``save()``). Deterministic: the same seed and the same starting ids
give the same rows."""

from __future__ import annotations

import bisect
import datetime as dt
import random
from collections import deque
from collections.abc import Iterator, Sequence

from django.conf import settings

from ..keys import person_key
from ..models import CodeList, Decision, Status
from .reference import (
    DEPENDENT_LISTS,
    DEPENDENT_SHARE,
    LAST_YEAR,
    REREFERRAL_DEFAULT,
    REREFERRAL_RATE,
    TZ,
    YEAR_WEIGHTS,
    Picker,
    Reference,
    below,
)
from .rows import Chunk

# A returning person as the generator remembers them: who referred them, their person row, their identity data.
Known = tuple[int, int, str, str, dt.date, str, int]
# What an application's profile columns hold, in APPLICATION_COLUMNS order from gender to relationship.
Profile = tuple[int, int | None, int | None, int | None, str | None, str | None, int | None]


class Generator:
    """Draws applications one chunk at a time. Deterministic for a given seed and starting ids: the helpers below
    draw from one random stream in a fixed order (institution, dates, person, facts, places, profile, workflow),
    so reordering their calls changes every row after the first."""

    def __init__(self, *, seed: int, reference: Reference):
        self.rng = random.Random(seed)
        self.ref = reference
        self.years = Picker(YEAR_WEIGHTS)
        # Recent documents, so that some people come back (a later year, or another institution).
        self.recent: deque[Known] = deque(maxlen=5000)
        self.recent_by: dict[int, deque[Known]] = {pk: deque(maxlen=2000) for pk in reference.institution_codes}
        by_code = {code: pk for pk, code in reference.institution_codes.items()}
        codes = reference.institution_codes.items()
        self.rereferral = {pk: REREFERRAL_RATE.get(code, REREFERRAL_DEFAULT) for pk, code in codes}
        self.partner = {by_code[a]: by_code[b] for a, b in DEPENDENT_LISTS.items() if a in by_code and b in by_code}
        self.codes = reference.codes
        self.p = reference.pickers
        self.secret = settings.PERSON_KEY_SECRET
        self.deadline_days = settings.DECISION_DEADLINE_BUSINESS_DAYS
        self.stragglers_from = dt.date(LAST_YEAR - 1, 7, 1)
        # Received after this day, most applications are still open when the synthetic data end.
        self.cut_off = dt.date(LAST_YEAR, 11, 20)
        self._offsets: dict[dt.date, str] = {}
        forms, statuses, occupations = (
            self.codes[CodeList.EXPLOITATION_FORM],
            self.codes[CodeList.MIGRATION_STATUS],
            self.codes[CodeList.OCCUPATION],
        )
        self.sexual = forms.get("SEXUAL")
        self.labour_like = {forms.get(c) for c in ("LABOUR", "SERVITUDE", "SLAVERY")}
        self.national = statuses.get("NATIONAL")
        self.unaccompanied = statuses.get("UNACCOMPANIED_CHILD")
        self.child_occupation = occupations.get("CHILD")
        self.student = occupations.get("STUDENT")

    def _returning(self, institution_id: int) -> Known | None:
        """Someone already referred (by this or another institution), or None for a new person."""
        rng = self.rng
        if not self.recent or rng.random() >= self.rereferral.get(institution_id, REREFERRAL_DEFAULT):
            return None
        pool = self.recent_by.get(self.partner.get(institution_id))  # type: ignore[arg-type]  # None: no partner
        if pool and rng.random() < DEPENDENT_SHARE:
            return pool[below(rng, len(pool))]
        return self.recent[below(rng, len(self.recent))]

    def _received_on(self) -> dt.date:
        rng = self.rng
        year = self.years(rng)
        day = dt.date(year, 1, 1) + dt.timedelta(days=below(rng, 365))
        # Most applications arrive on a working day.
        if rng.random() < 0.93:
            bd = self.ref.business_days
            day = bd[bisect.bisect_left(bd, day)]
            if day.year > year:
                day = bd[bisect.bisect_left(bd, dt.date(year, 12, 31)) - 1]
        return day

    def _after_business_days(self, day: dt.date, n: int) -> dt.date:
        bd = self.ref.business_days
        return bd[bisect.bisect_right(bd, day) + n - 1]

    def _at(self, day: dt.date) -> str:
        """A working-hours moment of ``day`` as an ISO 8601 string with the portal's UTC offset (the bulk writer
        accepts it; formatting a string is several times cheaper than building an aware datetime)."""
        offset = self._offsets.get(day)
        if offset is None:
            noon = dt.datetime(day.year, day.month, day.day, 12, tzinfo=TZ).strftime("%z")
            offset = self._offsets[day] = f"{noon[:3]}:{noon[3:]}"
        r = self.rng.random()
        return f"{day.isoformat()}T{8 + int(r * 9):02d}:{int(r * 540) % 60:02d}:00{offset}"

    def chunk(self, *, application_ids: Sequence[int], person_ids: Sequence[int], decision_ids: Sequence[int]) -> Chunk:
        """The rows of one application per id of ``application_ids``. ``person_ids`` holds one id per application
        (a returning person takes none) and ``decision_ids`` two (an appealed case has two decisions)."""
        rng = self.rng
        out = Chunk()
        person_iter = iter(person_ids)
        decision_iter = iter(decision_ids)
        for app_id in application_ids:
            institution_id = self.ref.institutions(rng)
            received = self._received_on()
            created = self._at(received)
            person_id, birth, nationality, sex_id = self._person(out, institution_id, received, created, person_iter)
            age_app = max(0, min(110, (received - birth).days // 365))
            age_rec = max(0, age_app - (0 if rng.random() < 0.6 else below(rng, 4)))
            birth_known = rng.random() < 0.75
            self._facts(out.m2m, app_id)
            recruitment_district, recruitment_country = self._places(out, app_id, nationality)
            gender_id, migration, occupation, education, residence, tongue, relationship = self._profile(
                sex_id, nationality, age_app
            )
            status, decided_on, due_on, submitted_at = self._workflow_rows(out, app_id, received, decision_iter)
            narrative = "Relato ficticio generado para la demostración." if rng.random() < 0.1 else ""
            out.applications.append(
                (
                    app_id,
                    institution_id,
                    f"DEMO-{received.year}-{app_id:07d}",
                    person_id,
                    received,
                    status,
                    submitted_at,
                    decided_on,
                    due_on,
                    relationship,
                    recruitment_district,
                    *self.ref.levels(recruitment_district),
                    recruitment_country,
                    birth_known,
                    age_app,
                    age_rec,
                    sex_id,
                    gender_id,
                    migration,
                    education,
                    occupation,
                    residence,
                    *self.ref.levels(residence),
                    tongue,
                    narrative,
                    1,
                    None,
                    created,
                    created,
                )
            )
        return out

    def _person(
        self, out: Chunk, institution_id: int, received: dt.date, created: str, person_iter: Iterator[int]
    ) -> tuple[int, dt.date, str, int]:
        """The application's person: the same person row when this institution referred them before; a new row of
        this institution with the same identity when another institution did; else someone new. Returns the
        person's id, birth date, nationality and sex."""
        returning = self._returning(institution_id)
        if returning is not None and returning[0] == institution_id:
            _institution, person_id, _doc_type, _doc_number, birth, nationality, sex_id = returning
            return person_id, birth, nationality, sex_id
        person_id = next(person_iter)
        if returning is not None:
            doc_type, doc_number, birth, nationality, sex_id = returning[2:]
        else:
            doc_type, doc_number, birth, nationality, sex_id = self._new_identity(person_id, received)
        key = person_key(doc_type, doc_number, secret=self.secret)
        out.people.append((person_id, institution_id, key, created))
        known_birth = birth if self.rng.random() < 0.75 else None
        out.identities.append(
            (
                person_id,
                "PERSONA",
                f"DE PRUEBA {person_id}",
                doc_type,
                doc_number,
                known_birth,
                "0000-0000",
                "",
                "Dirección ficticia (datos de demostración)",
            )
        )
        if doc_number:
            known = (institution_id, person_id, doc_type, doc_number, birth, nationality, sex_id)
            self.recent.append(known)
            self.recent_by[institution_id].append(known)
        return person_id, birth, nationality, sex_id

    def _new_identity(self, person_id: int, received: dt.date) -> tuple[str, str, dt.date, str, int]:
        """Someone never referred: document type and (obviously fake) number, birth date, nationality, sex."""
        rng = self.rng
        nationality = self.ref.nationality(rng)
        sex_id = self.p[CodeList.SEX](rng)
        r = rng.random()
        if r < 0.12:
            doc_type, doc_number = "none", ""
        else:
            if nationality == "CR":
                doc_type = "national_id"
            elif r < 0.45:
                doc_type = "passport"
            elif r < 0.75:
                doc_type = "dimex"
            elif r < 0.85:
                doc_type = "refugee_id"
            else:
                doc_type = "other"
            doc_number = f"DEMO-{person_id:09d}"
        age = self._age()
        birth = received - dt.timedelta(days=age * 365 + below(rng, 365))
        return doc_type, doc_number, birth, nationality, sex_id

    def _facts(self, m: dict[str, list], app_id: int) -> None:
        """The case's many-to-many facts: forms of exploitation (and their kind), means, acts, methods."""
        rng, p = self.rng, self.p
        forms = p[CodeList.EXPLOITATION_FORM].several(rng, 1 if rng.random() < 0.82 else 2)
        for f in forms:
            m["exploitation_forms"].append((app_id, f))
        if self.sexual in forms:
            for c in p[CodeList.SEXUAL_EXPLOITATION_TYPE].several(rng, 1 if rng.random() < 0.8 else 2):
                m["sexual_exploitation_types"].append((app_id, c))
        if self.labour_like & set(forms) or rng.random() < 0.03:
            for c in p[CodeList.LABOUR_SECTOR].several(rng, 1):
                m["labour_sectors"].append((app_id, c))
        for c in p[CodeList.MEANS].several(rng, rng.choice((1, 1, 2, 2, 3))):
            m["means"].append((app_id, c))
        for c in p[CodeList.ACT].several(rng, rng.choice((1, 2, 2, 3))):
            m["acts"].append((app_id, c))
        for c in p[CodeList.RECRUITMENT_METHOD].several(rng, 1):
            m["recruitment_methods"].append((app_id, c))
        for c in p[CodeList.CONTROL_METHOD].several(rng, rng.choice((1, 2, 2, 3, 4))):
            m["control_methods"].append((app_id, c))

    def _places(self, out: Chunk, app_id: int, nationality: str) -> tuple[str | None, str]:
        """Where the exploitation happened and the person's nationalities; returns the place of recruitment (a
        district in Costa Rica, or else a country)."""
        rng, ref = self.rng, self.ref
        if nationality == "CR" or rng.random() < 0.45:
            recruitment_district, recruitment_country = ref.districts(rng), ""
        else:
            recruitment_district, recruitment_country = None, nationality
        countries = ref.exploitation_country.several(rng, 1 if rng.random() < 0.9 else 2)
        for c in countries:
            out.exploitation_countries.append((app_id, c))
        if "CR" in countries:
            for d in ref.districts.several(rng, 1 if rng.random() < 0.85 else 2):
                out.m2m["exploitation_districts"].append((app_id, d))
        out.nationalities.append((app_id, nationality))
        if rng.random() < 0.03:
            other = ref.nationality(rng)
            if other != nationality:
                out.nationalities.append((app_id, other))
        return recruitment_district, recruitment_country

    def _profile(self, sex_id: int, nationality: str, age: int) -> Profile:
        """Gender, migration status, occupation, education, residence, mother tongue and relationship to the
        trafficker, plausible together (a Costa Rican is national, a child of 10 has no job)."""
        rng, p = self.rng, self.p
        gender_id = self.ref.gender[sex_id](rng)
        if nationality == "CR":
            migration = self.national
        elif age < 18 and rng.random() < 0.3:
            migration = self.unaccompanied
        else:
            migration = p[CodeList.MIGRATION_STATUS](rng)
        if age < 12:
            occupation = self.child_occupation
        elif age < 18 and rng.random() < 0.6:
            occupation = self.student
        else:
            occupation = p[CodeList.OCCUPATION](rng)
        education = self._education(age)
        residence = self.ref.districts(rng) if rng.random() < 0.9 else None
        tongue = self.ref.languages(rng) if rng.random() < 0.97 else None
        relationship = p[CodeList.RELATIONSHIP_TO_TRAFFICKER](rng) if rng.random() < 0.95 else None
        return gender_id, migration, occupation, education, residence, tongue, relationship

    def _education(self, age: int) -> int | None:
        """Plausible for the age: no child holds a degree."""
        levels = self.codes[CodeList.EDUCATION_LEVEL]
        if age < 6:
            return levels.get("NONE" if age < 3 else "ISCED0")
        if age < 12:
            return levels.get("ISCED1")
        if age < 15:
            return levels.get("ISCED1" if self.rng.random() < 0.4 else "ISCED2")
        if age < 18:
            return levels.get(("ISCED1", "ISCED2", "ISCED2", "ISCED3")[below(self.rng, 4)])
        return self.p[CodeList.EDUCATION_LEVEL](self.rng)

    def _age(self) -> int:
        r = self.rng.random()
        if r < 0.08:
            return 4 + below(self.rng, 12 - 4)
        if r < 0.24:
            return 12 + below(self.rng, 18 - 12)
        if r < 0.55:
            return 18 + below(self.rng, 25 - 18)
        if r < 0.82:
            return 25 + below(self.rng, 35 - 25)
        if r < 0.94:
            return 35 + below(self.rng, 45 - 35)
        if r < 0.99:
            return 45 + below(self.rng, 60 - 45)
        return 60 + below(self.rng, 80 - 60)

    def _workflow_rows(
        self, out: Chunk, app_id: int, received: dt.date, decision_iter: Iterator[int]
    ) -> tuple[str, dt.date | None, dt.date | None, str | None]:
        """The application's way through the workflow as events (and its decisions when decided); returns its
        status, decision date, due date and submission time. Most are decided; the last weeks, and a few
        stragglers, are still open."""
        user_id = self.ref.user_id
        status, decided_on, due_on, submitted_at = self._workflow(received)
        if submitted_at is not None:
            out.events.append((app_id, Status.DRAFT, Status.SUBMITTED, submitted_at, None, ""))
        if status in (Status.UNDER_REVIEW, Status.INFO_REQUESTED, Status.ACCREDITED, Status.NOT_ACCREDITED):
            review_at = self._at(self._after_business_days(received, 1))
            out.events.append((app_id, Status.SUBMITTED, Status.UNDER_REVIEW, review_at, user_id, ""))
        if status == Status.INFO_REQUESTED:
            ask_at = self._at(self._after_business_days(received, 2))
            asked = "Se solicita información adicional (demostración)."
            out.events.append((app_id, Status.UNDER_REVIEW, Status.INFO_REQUESTED, ask_at, user_id, asked))
            due_on = None  # the clock is stopped while the institution answers
        if status == Status.WITHDRAWN:
            at = self._at(self._after_business_days(received, 1 + below(self.rng, 4)))
            out.events.append((app_id, Status.SUBMITTED, Status.WITHDRAWN, at, None, ""))
        if decided_on is not None:
            decided_at = self._at(decided_on)
            out.events.append((app_id, Status.UNDER_REVIEW, status, decided_at, user_id, ""))
            self._decisions(out, app_id, status, received, decided_on, decided_at, decision_iter)
        return status, decided_on, due_on, submitted_at

    def _workflow(self, received: dt.date) -> tuple[str, dt.date | None, dt.date | None, str | None]:
        """Status, decision date, due date and submission time of an application received on ``received``."""
        rng = self.rng
        due_on: dt.date | None = self._after_business_days(received, self.deadline_days)
        r = rng.random()
        if received >= self.cut_off:
            open_ = (Status.DRAFT, Status.SUBMITTED, Status.UNDER_REVIEW, Status.INFO_REQUESTED)
            status = open_[below(rng, 4)] if r < 0.6 else None
        elif received >= self.stragglers_from:
            # A few recent applications are stuck (forgotten drafts, reviews or answers overdue): the queue's
            # overdue flag has something to show.
            status = Status.DRAFT if r < 0.01 else Status.UNDER_REVIEW if r < 0.02 else None
            if status is None and r < 0.03:
                status = Status.INFO_REQUESTED
        else:
            status = None
        if status is None:
            r = rng.random()
            status = Status.ACCREDITED if r < 0.64 else Status.NOT_ACCREDITED if r < 0.96 else Status.WITHDRAWN
        submitted_at = None if status == Status.DRAFT else self._at(received)
        decided_on: dt.date | None = None
        if status in (Status.ACCREDITED, Status.NOT_ACCREDITED):
            r = rng.random()
            delay = 1 + below(rng, 7) if r < 0.72 else 8 + below(rng, 8) if r < 0.95 else 16 + below(rng, 44)
            decided_on = self._after_business_days(received, delay)
        if status == Status.DRAFT:
            due_on = None
        return status, decided_on, due_on, submitted_at

    def _decisions(
        self,
        out: Chunk,
        app_id: int,
        status: str,
        received: dt.date,
        decided_on: dt.date,
        decided_at: str,
        decision_iter: Iterator[int],
    ) -> None:
        """The resolution deciding the application, and for a few refusals the appeal that reversed it."""
        rng = self.rng
        members = rng.choice((5, 5, 6, 7))
        accredited = status == Status.ACCREDITED
        appealed = rng.random() < 0.015
        # An appeal reverses an earlier refusal: the first resolution said no, the appeal accredits.
        first_outcome = Decision.Outcome.NOT_ACCREDITED if (appealed or not accredited) else Decision.Outcome.ACCREDITED
        first_id = next(decision_iter)
        first_date = decided_on if not appealed else self._after_business_days(received, 1 + below(rng, 7))
        favour = members // 2 + 1 + below(rng, members - members // 2)
        against = below(rng, members - favour + 1)
        if first_outcome == Decision.Outcome.NOT_ACCREDITED:
            favour, against = against, favour
        out.decisions.append(
            (
                first_id,
                app_id,
                Decision.Kind.ORIGINAL,
                None,
                f"ERI-{first_date.year}-{first_id:07d}",
                first_date,
                favour,
                against,
                members - favour - against,
                first_outcome,
                "Resolución técnica razonada de demostración.",
                self.ref.user_id,
                decided_at if not appealed else self._at(first_date),
            )
        )
        if appealed:
            appeal_id = next(decision_iter)
            out.decisions.append(
                (
                    appeal_id,
                    app_id,
                    Decision.Kind.APPEAL,
                    first_id,
                    f"ERI-{decided_on.year}-{appeal_id:07d}",
                    decided_on,
                    members,
                    0,
                    0,
                    Decision.Outcome.ACCREDITED,
                    "Recurso de revocatoria acogido (demostración).",
                    self.ref.user_id,
                    decided_at,
                )
            )
