"""Synthetic applications for demonstrations and benchmarks (``manage.py seed_demo``).

The data look like the real thing in shape (years 2015-2025, every code list used with plausible weights,
districts weighted by province, nationalities weighted to the region, decisions and their delays, people referred
by more than one institution) while the identity data are obviously fake ("PERSONA DE PRUEBA", documents
"DEMO..."), so a screenshot of the demo can never be mistaken for a victim's file.

Speed: rows are generated in chunks (memory stays bounded) as plain tuples per table; on PostgreSQL each chunk is
written with COPY, elsewhere with ``bulk_create``. Nothing calls ``save()`` per row. Simple-history rows are not
written for synthetic data (there is no "who changed it" to record); workflow events and decisions are.
"""

from __future__ import annotations

import bisect
import datetime as dt
import io
import queue
import random
import threading
from collections import deque
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction

from accounts.models import Institution, User

from . import deadlines
from .facts import M2M_FIELDS
from .keys import person_key
from .models import (
    Application,
    ApplicationEvent,
    ApplicationExploitationCountry,
    ApplicationNationality,
    Code,
    CodeList,
    Decision,
    District,
    Identity,
    Language,
    Person,
    Status,
)

FIRST_YEAR, LAST_YEAR = 2015, 2025
# More applications each year, with the 2020 dip of the pandemic.
YEAR_WEIGHTS = {
    2015: 55,
    2016: 62,
    2017: 70,
    2018: 78,
    2019: 88,
    2020: 66,
    2021: 90,
    2022: 104,
    2023: 118,
    2024: 130,
    2025: 140,
}

# Institutions that refer cases, by share of referrals.
INSTITUTION_WEIGHTS = {
    "OIJ": 18,
    "PANI": 16,
    "DGME": 15,
    "INAMU": 14,
    "FACTRA": 10,
    "MTSS": 8,
    "OAPVD": 7,
    "CCSS": 5,
    "MSP": 4,
    "IMAS": 3,
}

# For multiple systems estimation (estimation/) the overlaps between institutions must carry information: each
# institution re-refers people already known to the portal at its own rate, and FACTRA takes most of its
# re-referrals from OIJ's recent cases (a dependence between two lists that the estimate's model has to find).
REREFERRAL_RATE = {"OIJ": 0.24, "FACTRA": 0.32, "PANI": 0.18, "INAMU": 0.2, "DGME": 0.08, "MTSS": 0.14}
REREFERRAL_DEFAULT = 0.12
DEPENDENT_LISTS = {"FACTRA": "OIJ"}
DEPENDENT_SHARE = 0.6

NATIONALITY_WEIGHTS = {
    "CR": 420,
    "NI": 230,
    "VE": 70,
    "CO": 60,
    "HN": 35,
    "PA": 30,
    "SV": 22,
    "DO": 25,
    "CU": 25,
    "GT": 15,
    "CN": 15,
    "HT": 8,
    "EC": 6,
    "MX": 6,
    "PE": 4,
    "PH": 3,
    "IN": 3,
    "US": 3,
    "BD": 2,
    "ES": 2,
}
# Where people are exploited abroad (Costa Rica itself dominates).
EXPLOITATION_COUNTRY_WEIGHTS = {
    "CR": 800,
    "PA": 40,
    "MX": 30,
    "US": 25,
    "NI": 20,
    "GT": 15,
    "ES": 12,
    "SV": 8,
    "HN": 8,
    "CO": 6,
    "CN": 4,
    "JP": 3,
}
PROVINCE_WEIGHTS = {"1": 34, "2": 20, "3": 9, "4": 10, "5": 10, "6": 11, "7": 8}

# Plausible weights per code; a code missing here (a code an admin added) gets the smallest weight, so every
# code of every list is used.
CODE_WEIGHTS: dict[str, dict[str, int]] = {
    CodeList.EXPLOITATION_FORM: {
        "SEXUAL": 520,
        "LABOUR": 240,
        "SERVITUDE": 50,
        "SLAVERY": 10,
        "MARRIAGE": 30,
        "ADOPTION": 8,
        "PRENATAL": 3,
        "BEGGING": 35,
        "PREGNANCY": 3,
        "ABORTION": 2,
        "ORGANS": 3,
        "CRIMINAL": 40,
        "OTHER": 15,
    },
    CodeList.SEXUAL_EXPLOITATION_TYPE: {"PROSTITUTION": 60, "PORNOGRAPHY": 15, "REMOTE": 15, "PRIVATE": 10},
    CodeList.MEANS: {
        "FORCE": 12,
        "COERCION": 14,
        "ABDUCTION": 3,
        "FRAUD": 14,
        "DECEPTION": 30,
        "ABUSE_POWER": 10,
        "ABUSE_VULNERABILITY": 35,
        "PAYMENTS": 6,
        "TECHNOLOGY": 8,
        "OTHER": 3,
    },
    CodeList.ACT: {"RECRUITMENT": 45, "TRANSPORT": 25, "TRANSFER": 10, "HARBOURING": 25, "RECEIPT": 20},
    CodeList.RECRUITMENT_METHOD: {
        "PLACE_OF_BUSINESS": 8,
        "EDUCATIONAL": 3,
        "WORK": 15,
        "SOCIAL_NETWORK": 22,
        "ONLINE_AD": 10,
        "TV_AD": 1,
        "NEWSPAPER_AD": 2,
        "FAMILY": 18,
        "FRIENDS": 16,
        "OTHER": 5,
    },
    CodeList.CONTROL_METHOD: {
        "PHYSICAL_THREATS": 14,
        "THREAT_LAW_ENFORCEMENT": 8,
        "THREATENS_FAMILY": 10,
        "DEBT_BONDAGE": 12,
        "FALSE_PROMISES": 20,
        "PHYSICAL_ABUSE": 10,
        "SEXUAL_ABUSE": 9,
        "TAKES_EARNINGS": 14,
        "RESTRICTS_FINANCES": 7,
        "RESTRICTS_MEDICAL": 3,
        "WITHHOLDS_NECESSITIES": 4,
        "PSYCHOLOGICAL_ABUSE": 16,
        "SUBSTANCES": 5,
        "EXCESSIVE_HOURS": 9,
        "WITHHOLDS_DOCUMENTS": 12,
        "RESTRICTS_MOVEMENT": 13,
        "OTHER": 2,
    },
    CodeList.RELATIONSHIP_TO_TRAFFICKER: {
        "FAMILY": 18,
        "INTIMATE_PARTNER": 14,
        "ACQUAINTANCE": 30,
        "STRANGER": 25,
        "UNKNOWN": 13,
    },
    CodeList.SEX: {"F": 700, "M": 285, "I": 3, "U": 12},
    CodeList.MIGRATION_STATUS: {
        "REGULAR": 20,
        "IRREGULAR": 40,
        "LABOUR": 6,
        "ASYLUM_SEEKER": 10,
        "REFUGEE": 6,
        "STATELESS": 1,
        "UNACCOMPANIED_CHILD": 4,
        "RETURNEE": 2,
        "TRANSIT": 6,
        "UNKNOWN": 5,
    },
    CodeList.EDUCATION_LEVEL: {
        "NONE": 6,
        "ISCED0": 2,
        "ISCED1": 22,
        "ISCED2": 25,
        "ISCED3": 22,
        "ISCED4": 3,
        "ISCED5": 3,
        "ISCED6": 7,
        "ISCED7": 1,
        "ISCED8": 1,
        "UNKNOWN": 8,
    },
    CodeList.OCCUPATION: {
        "ISCO1": 1,
        "ISCO2": 2,
        "ISCO3": 2,
        "ISCO4": 3,
        "ISCO5": 22,
        "ISCO6": 6,
        "ISCO7": 5,
        "ISCO8": 2,
        "ISCO9": 25,
        "ISCO0": 1,
        "STUDENT": 10,
        "UNPAID_CARE": 6,
        "UNEMPLOYED": 9,
        "CHILD": 4,
        "UNKNOWN": 6,
    },
    CodeList.LABOUR_SECTOR: {
        "A": 30,
        "B": 3,
        "C": 8,
        "F": 12,
        "G": 10,
        "H": 3,
        "I": 14,
        "J": 2,
        "T": 20,
        "S": 6,
        "OTHER": 4,
    },
}
LANGUAGE_WEIGHTS = {
    "spa": 9200,
    "bzd": 40,
    "cjp": 40,
    "gym": 60,
    "miq": 40,
    "jam": 30,
    "hat": 60,
    "eng": 80,
    "cmn": 80,
    "yue": 20,
    "fra": 10,
    "por": 10,
    "ara": 5,
}

GENDER_FOR_SEX = {
    "F": {"WOMAN": 95, "TRANS_MAN": 1, "NON_BINARY": 1, "UNKNOWN": 3},
    "M": {"MAN": 90, "TRANS_WOMAN": 6, "NON_BINARY": 1, "OTHER": 1, "UNKNOWN": 2},
    "I": {"NON_BINARY": 40, "WOMAN": 20, "MAN": 20, "OTHER": 20},
    "U": {"UNKNOWN": 80, "OTHER": 20},
}

TZ = ZoneInfo(settings.TIME_ZONE)
DEMO_USERNAME = "seed.demo"


def _below(rng: random.Random, n: int) -> int:
    """A uniform integer in [0, n): ``random.randrange`` without its argument checks, which dominate in a loop
    of millions."""
    return int(rng.random() * n)


class _Picker:
    """Weighted choice over a fixed population, faster than ``random.choices`` in a tight loop."""

    __slots__ = ("values", "cum", "total")

    def __init__(self, weights: dict):
        self.values = list(weights)
        self.cum = []
        total = 0
        for value in self.values:
            total += weights[value]
            self.cum.append(total)
        self.total = total

    def __call__(self, rng: random.Random):
        return self.values[bisect.bisect_right(self.cum, rng.random() * self.total)]

    def several(self, rng: random.Random, k: int) -> list:
        out = []
        for _ in range(k * 3):
            value = self(rng)
            if value not in out:
                out.append(value)
                if len(out) == k:
                    break
        return out


@dataclass
class _Reference:
    codes: dict[str, dict[str, int]]  # list -> code -> id
    pickers: dict[str, _Picker]
    districts: _Picker
    languages: _Picker
    institutions: _Picker
    nationality: _Picker
    exploitation_country: _Picker
    gender: dict[str, _Picker]
    business_days: list[dt.date]
    user_id: int
    institution_ids: list[int] = field(default_factory=list)
    institution_codes: dict[int, str] = field(default_factory=dict)
    # district -> (canton, province): every stored place carries its coarser levels.
    levels_of: dict[str, tuple[str, str]] = field(default_factory=dict)

    def levels(self, district: str | None) -> tuple[str | None, str | None]:
        return self.levels_of[district] if district else (None, None)


def _reference() -> _Reference:
    codes: dict[str, dict[str, int]] = {}
    for list_name, code, pk in Code.objects.values_list("list", "code", "id"):
        codes.setdefault(list_name, {})[code] = pk
    pickers = {}
    for list_name, by_code in codes.items():
        weights = CODE_WEIGHTS.get(list_name, {})
        smallest = min(weights.values()) if weights else 1
        pickers[list_name] = _Picker({pk: weights.get(code, smallest) for code, pk in by_code.items()})
    gender = {}
    for sex, by_gender in GENDER_FOR_SEX.items():
        genders = codes[CodeList.GENDER_IDENTITY]
        known = {genders[g]: w for g, w in by_gender.items() if g in genders}
        gender[codes[CodeList.SEX].get(sex)] = _Picker(known)
    # Any sex code an admin added falls back to the overall gender distribution.
    for pk in codes[CodeList.SEX].values():
        gender.setdefault(pk, pickers[CodeList.GENDER_IDENTITY])

    district_weights = {}
    by_province: dict[str, list[str]] = {}
    levels_of = {}
    for code, canton, province in District.objects.values_list("code", "canton_id", "canton__province_id"):
        by_province.setdefault(province, []).append(code)
        levels_of[code] = (canton, province)
    for province, codes_in in by_province.items():
        share = PROVINCE_WEIGHTS.get(province, 5) * 1000 // len(codes_in)
        for code in codes_in:
            district_weights[code] = max(share, 1)
    languages = {code: LANGUAGE_WEIGHTS.get(code, 5) for code in Language.objects.values_list("code", flat=True)}
    rows = list(Institution.objects.filter(code__in=INSTITUTION_WEIGHTS))
    institutions = {i.pk: INSTITUTION_WEIGHTS[i.code] for i in rows}
    user = User.objects.filter(username=DEMO_USERNAME).first()
    if user is None:
        # The recorder of synthetic decisions: a user that cannot log in.
        user = User(username=DEMO_USERNAME, is_active=False, first_name="Demo", last_name="ERI")
        user.set_unusable_password()
        user.save()
    return _Reference(
        codes=codes,
        pickers=pickers,
        districts=_Picker(district_weights),
        languages=_Picker(languages),
        institutions=_Picker(institutions),
        nationality=_Picker(NATIONALITY_WEIGHTS),
        exploitation_country=_Picker(EXPLOITATION_COUNTRY_WEIGHTS),
        gender=gender,
        business_days=deadlines.business_day_index(dt.date(FIRST_YEAR - 1, 12, 1), dt.date(LAST_YEAR + 2, 12, 31)),
        user_id=user.pk,
        institution_ids=list(institutions),
        institution_codes={i.pk: i.code for i in rows},
        levels_of=levels_of,
    )


APPLICATION_COLUMNS = (
    "id",
    "institution_id",
    "case_reference",
    "person_id",
    "received_on",
    "status",
    "submitted_at",
    "decided_on",
    "due_on",
    "relationship_to_trafficker_id",
    "recruitment_district_id",
    "recruitment_canton_id",
    "recruitment_province_id",
    "recruitment_country",
    "birth_date_known",
    "age_at_application",
    "age_at_recruitment",
    "sex_id",
    "gender_identity_id",
    "migration_status_id",
    "education_level_id",
    "occupation_id",
    "residence_district_id",
    "residence_canton_id",
    "residence_province_id",
    "mother_tongue_id",
    "narrative",
    "version",
    "created_by_id",
    "created_at",
    "updated_at",
)
PERSON_COLUMNS = ("id", "institution_id", "person_key", "created_at")
IDENTITY_COLUMNS = (
    "person_id",
    "given_names",
    "family_names",
    "document_type",
    "document_number",
    "birth_date",
    "phone",
    "email",
    "address",
)
DECISION_COLUMNS = (
    "id",
    "application_id",
    "kind",
    "supersedes_id",
    "resolution_number",
    "resolution_date",
    "votes_in_favour",
    "votes_against",
    "abstentions",
    "outcome",
    "reasons",
    "recorded_by_id",
    "recorded_at",
)
EVENT_COLUMNS = ("application_id", "from_status", "to_status", "at", "by_id", "comment")
COUNTRY_COLUMNS = ("application_id", "country")


def _m2m_columns(name: str) -> tuple[str, str]:
    source = Application._meta.get_field(name).m2m_column_name()
    target = Application._meta.get_field(name).m2m_reverse_name()
    return source, target


@dataclass
class Chunk:
    """The rows of one chunk, per table, as tuples in the column order above."""

    people: list = field(default_factory=list)
    identities: list = field(default_factory=list)
    applications: list = field(default_factory=list)
    m2m: dict[str, list] = field(default_factory=lambda: {name: [] for name in M2M_FIELDS})
    nationalities: list = field(default_factory=list)
    exploitation_countries: list = field(default_factory=list)
    decisions: list = field(default_factory=list)
    events: list = field(default_factory=list)

    def row_count(self) -> int:
        return (
            len(self.people)
            + len(self.identities)
            + len(self.applications)
            + sum(map(len, self.m2m.values()))
            + len(self.nationalities)
            + len(self.exploitation_countries)
            + len(self.decisions)
            + len(self.events)
        )


class Generator:
    """Draws applications one chunk at a time. Deterministic for a given seed and starting ids."""

    def __init__(self, *, seed: int, reference: _Reference):
        self.rng = random.Random(seed)
        self.ref = reference
        self.years = _Picker(YEAR_WEIGHTS)
        # Recent documents, so that some people come back (a later year, or another institution).
        self.recent: deque = deque(maxlen=5000)
        self.recent_by: dict[int, deque] = {pk: deque(maxlen=2000) for pk in reference.institution_codes}
        by_code = {code: pk for pk, code in reference.institution_codes.items()}
        codes = reference.institution_codes.items()
        self.rereferral = {pk: REREFERRAL_RATE.get(code, REREFERRAL_DEFAULT) for pk, code in codes}
        self.partner = {by_code[a]: by_code[b] for a, b in DEPENDENT_LISTS.items() if a in by_code and b in by_code}
        self.codes = reference.codes
        self.p = reference.pickers
        self.secret = settings.PERSON_KEY_SECRET
        self.deadline_days = settings.DECISION_DEADLINE_BUSINESS_DAYS
        self.stragglers_from = dt.date(LAST_YEAR - 1, 7, 1)
        self._offsets: dict[dt.date, str] = {}

    def _returning(self, institution_id: int):
        """Someone already referred (by this or another institution), or None for a new person."""
        rng = self.rng
        if not self.recent or rng.random() >= self.rereferral.get(institution_id, REREFERRAL_DEFAULT):
            return None
        pool = self.recent_by.get(self.partner.get(institution_id))
        if pool and rng.random() < DEPENDENT_SHARE:
            return pool[_below(rng, len(pool))]
        return self.recent[_below(rng, len(self.recent))]

    def _received_on(self) -> dt.date:
        rng = self.rng
        year = self.years(rng)
        day = dt.date(year, 1, 1) + dt.timedelta(days=_below(rng, 365))
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
        """A working-hours moment of ``day`` as an ISO 8601 string with the portal's UTC offset (both writers
        accept it; formatting a string is several times cheaper than building an aware datetime)."""
        offset = self._offsets.get(day)
        if offset is None:
            noon = dt.datetime(day.year, day.month, day.day, 12, tzinfo=TZ).strftime("%z")
            offset = self._offsets[day] = f"{noon[:3]}:{noon[3:]}"
        r = self.rng.random()
        return f"{day.isoformat()}T{8 + int(r * 9):02d}:{int(r * 540) % 60:02d}:00{offset}"

    def chunk(self, *, application_ids: list[int], person_ids: list[int], decision_ids: list[int]) -> Chunk:
        rng, p, codes = self.rng, self.p, self.codes
        out = Chunk()
        person_iter = iter(person_ids)
        decision_iter = iter(decision_ids)
        sexual = codes[CodeList.EXPLOITATION_FORM].get("SEXUAL")
        labour_like = {codes[CodeList.EXPLOITATION_FORM].get(c) for c in ("LABOUR", "SERVITUDE", "SLAVERY")}
        national = codes[CodeList.MIGRATION_STATUS].get("NATIONAL")
        child_occupation = codes[CodeList.OCCUPATION].get("CHILD")
        student = codes[CodeList.OCCUPATION].get("STUDENT")
        unaccompanied = codes[CodeList.MIGRATION_STATUS].get("UNACCOMPANIED_CHILD")
        cut_off = dt.date(LAST_YEAR, 11, 20)
        for app_id in application_ids:
            institution_id = self.ref.institutions(rng)
            received = self._received_on()
            created = self._at(received)

            # The person: new, or someone already referred (by this or another institution).
            returning = self._returning(institution_id)
            if returning is not None and returning[0] == institution_id:
                person_id = returning[1]
                doc_type, doc_number, birth, nationality, sex_id = returning[2:]
            else:
                person_id = next(person_iter)
                if returning is not None:
                    doc_type, doc_number, birth, nationality, sex_id = returning[2:]
                else:
                    nationality = self.ref.nationality(rng)
                    sex_id = p[CodeList.SEX](rng)
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
                    birth = received - dt.timedelta(days=age * 365 + _below(rng, 365))
                key = person_key(doc_type, doc_number, secret=self.secret)
                out.people.append((person_id, institution_id, key, created))
                known_birth = birth if rng.random() < 0.75 else None
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

            age_app = max(0, min(110, (received - birth).days // 365))
            age_rec = max(0, age_app - (0 if rng.random() < 0.6 else _below(rng, 4)))
            birth_known = rng.random() < 0.75

            # Facts of the case.
            forms = p[CodeList.EXPLOITATION_FORM].several(rng, 1 if rng.random() < 0.82 else 2)
            m = out.m2m
            for f in forms:
                m["exploitation_forms"].append((app_id, f))
            if sexual in forms:
                for c in p[CodeList.SEXUAL_EXPLOITATION_TYPE].several(rng, 1 if rng.random() < 0.8 else 2):
                    m["sexual_exploitation_types"].append((app_id, c))
            if labour_like & set(forms) or rng.random() < 0.03:
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

            # Places.
            if nationality == "CR" or rng.random() < 0.45:
                recruitment_district, recruitment_country = self.ref.districts(rng), ""
            else:
                recruitment_district, recruitment_country = None, nationality
            countries = self.ref.exploitation_country.several(rng, 1 if rng.random() < 0.9 else 2)
            for c in countries:
                out.exploitation_countries.append((app_id, c))
            if "CR" in countries:
                for d in self.ref.districts.several(rng, 1 if rng.random() < 0.85 else 2):
                    m["exploitation_districts"].append((app_id, d))
            out.nationalities.append((app_id, nationality))
            if rng.random() < 0.03:
                other = self.ref.nationality(rng)
                if other != nationality:
                    out.nationalities.append((app_id, other))

            # Profile.
            gender_id = self.ref.gender[sex_id](rng)
            if nationality == "CR":
                migration = national
            elif age_app < 18 and rng.random() < 0.3:
                migration = unaccompanied
            else:
                migration = p[CodeList.MIGRATION_STATUS](rng)
            if age_app < 12:
                occupation = child_occupation
            elif age_app < 18 and rng.random() < 0.6:
                occupation = student
            else:
                occupation = p[CodeList.OCCUPATION](rng)
            education = self._education(age_app)
            residence = self.ref.districts(rng) if rng.random() < 0.9 else None
            tongue = self.ref.languages(rng) if rng.random() < 0.97 else None
            relationship = p[CodeList.RELATIONSHIP_TO_TRAFFICKER](rng) if rng.random() < 0.95 else None

            # Workflow: most are decided; the last weeks, and a few stragglers, are still open.
            status, decided_on, due_on, submitted_at = self._workflow(received, cut_off)
            if submitted_at is not None:
                out.events.append((app_id, Status.DRAFT, Status.SUBMITTED, submitted_at, None, ""))
            if status in (Status.UNDER_REVIEW, Status.INFO_REQUESTED, Status.ACCREDITED, Status.NOT_ACCREDITED):
                review_at = self._at(self._after_business_days(received, 1))
                out.events.append((app_id, Status.SUBMITTED, Status.UNDER_REVIEW, review_at, self.ref.user_id, ""))
            if status == Status.INFO_REQUESTED:
                ask_at = self._at(self._after_business_days(received, 2))
                out.events.append(
                    (
                        app_id,
                        Status.UNDER_REVIEW,
                        Status.INFO_REQUESTED,
                        ask_at,
                        self.ref.user_id,
                        "Se solicita información adicional (demostración).",
                    )
                )
                due_on = None  # the clock is stopped while the institution answers
            if status == Status.WITHDRAWN:
                at = self._at(self._after_business_days(received, 1 + _below(rng, 4)))
                out.events.append((app_id, Status.SUBMITTED, Status.WITHDRAWN, at, None, ""))
            if decided_on is not None:
                decided_at = self._at(decided_on)
                out.events.append((app_id, Status.UNDER_REVIEW, status, decided_at, self.ref.user_id, ""))
                self._decisions(out, app_id, status, received, decided_on, decided_at, decision_iter)

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

    def _education(self, age: int):
        """Plausible for the age: no child holds a degree."""
        levels = self.codes[CodeList.EDUCATION_LEVEL]
        if age < 6:
            return levels.get("NONE" if age < 3 else "ISCED0")
        if age < 12:
            return levels.get("ISCED1")
        if age < 15:
            return levels.get("ISCED1" if self.rng.random() < 0.4 else "ISCED2")
        if age < 18:
            return levels.get(("ISCED1", "ISCED2", "ISCED2", "ISCED3")[_below(self.rng, 4)])
        return self.p[CodeList.EDUCATION_LEVEL](self.rng)

    def _age(self) -> int:
        r = self.rng.random()
        if r < 0.08:
            return 4 + _below(self.rng, 12 - 4)
        if r < 0.24:
            return 12 + _below(self.rng, 18 - 12)
        if r < 0.55:
            return 18 + _below(self.rng, 25 - 18)
        if r < 0.82:
            return 25 + _below(self.rng, 35 - 25)
        if r < 0.94:
            return 35 + _below(self.rng, 45 - 35)
        if r < 0.99:
            return 45 + _below(self.rng, 60 - 45)
        return 60 + _below(self.rng, 80 - 60)

    def _workflow(self, received: dt.date, cut_off: dt.date):
        rng = self.rng
        due_on = self._after_business_days(received, self.deadline_days)
        r = rng.random()
        if received >= cut_off:
            open_ = (Status.DRAFT, Status.SUBMITTED, Status.UNDER_REVIEW, Status.INFO_REQUESTED)
            status = open_[_below(rng, 4)] if r < 0.6 else None
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
        decided_on = None
        if status in (Status.ACCREDITED, Status.NOT_ACCREDITED):
            r = rng.random()
            delay = 1 + _below(rng, 7) if r < 0.72 else 8 + _below(rng, 8) if r < 0.95 else 16 + _below(rng, 44)
            decided_on = self._after_business_days(received, delay)
        if status == Status.DRAFT:
            due_on = None
        return status, decided_on, due_on, submitted_at

    def _decisions(self, out: Chunk, app_id, status, received, decided_on, decided_at, decision_iter) -> None:
        rng = self.rng
        members = rng.choice((5, 5, 6, 7))
        accredited = status == Status.ACCREDITED
        appealed = rng.random() < 0.015
        # An appeal reverses an earlier refusal: the first resolution said no, the appeal accredits.
        first_outcome = Decision.Outcome.NOT_ACCREDITED if (appealed or not accredited) else Decision.Outcome.ACCREDITED
        first_id = next(decision_iter)
        first_date = decided_on if not appealed else self._after_business_days(received, 1 + _below(rng, 7))
        favour = members // 2 + 1 + _below(rng, members - members // 2)
        against = _below(rng, members - favour + 1)
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


# --- Writers -------------------------------------------------------------------------------------------------


def _copy_text(rows: list) -> str:
    buffer = io.StringIO()
    write = buffer.write
    fmt = _FORMAT
    for row in rows:
        write("\t".join([fmt[type(v)](v) if type(v) in fmt else _text(v) for v in row]))
        write("\n")
    return buffer.getvalue()


def _escape(v: str) -> str:
    return v.replace("\\", "\\\\").replace("\t", " ").replace("\n", " ") if ("\\" in v or "\t" in v or "\n" in v) else v


# COPY text format per Python type (a dict lookup on the exact type is cheaper than a chain of isinstance).
_FORMAT = {
    type(None): lambda v: "\\N",
    bool: lambda v: "t" if v else "f",
    int: str,
    str: _escape,
    dt.date: dt.date.isoformat,
    dt.datetime: dt.datetime.isoformat,
}


def _text(v) -> str:
    return _FORMAT.get(type(v), lambda x: _escape(str(x)))(v)


class _PostgresWriter:
    """COPY per table: an order of magnitude faster than INSERTs for a million applications."""

    def __init__(self):
        self.targets = {
            "people": (Person._meta.db_table, PERSON_COLUMNS),
            "identities": (Identity._meta.db_table, IDENTITY_COLUMNS),
            "applications": (Application._meta.db_table, APPLICATION_COLUMNS),
            "nationalities": (ApplicationNationality._meta.db_table, COUNTRY_COLUMNS),
            "exploitation_countries": (ApplicationExploitationCountry._meta.db_table, COUNTRY_COLUMNS),
            "decisions": (Decision._meta.db_table, DECISION_COLUMNS),
            "events": (ApplicationEvent._meta.db_table, EVENT_COLUMNS),
        }
        for name in M2M_FIELDS:
            through = Application._meta.get_field(name).remote_field.through
            self.targets[f"m2m:{name}"] = (through._meta.db_table, _m2m_columns(name))

    def allocate(self, model, n: int) -> list[int]:
        with connection.cursor() as cursor:
            sql = "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)"
            cursor.execute(sql, [model._meta.db_table, n])
            return [row[0] for row in cursor.fetchall()]

    def write(self, chunk: Chunk) -> None:
        tables = [
            ("people", chunk.people),
            ("identities", chunk.identities),
            ("applications", chunk.applications),
            ("nationalities", chunk.nationalities),
            ("exploitation_countries", chunk.exploitation_countries),
            ("decisions", chunk.decisions),
            ("events", chunk.events),
        ] + [(f"m2m:{name}", rows) for name, rows in chunk.m2m.items()]
        with connection.cursor() as cursor:
            raw = cursor.cursor
            for key, rows in tables:
                if not rows:
                    continue
                table, columns = self.targets[key]
                text = _copy_text(rows)
                sql = f'COPY "{table}" ({", ".join(columns)}) FROM STDIN'
                with raw.copy(sql) as copy:
                    copy.write(text)


class _DjangoWriter:
    """Parameterised multi-row INSERTs (executemany), for SQLite (the embedded default) and any other database.
    Raw rather than bulk_create because bulk_create would stamp auto_now fields (event and creation times) with
    the present instead of the synthetic past."""

    def __init__(self):
        self._last: dict[str, int] = {}

    def allocate(self, model, n: int) -> list[int]:
        last = model.objects.order_by("-id").values_list("id", flat=True).first() or 0
        start = max(last, self._last.get(model.__name__, 0)) + 1
        self._last[model.__name__] = start + n - 1
        return list(range(start, start + n))

    def _insert(self, model, columns, rows) -> None:
        if not rows:
            return
        fields_by_column = {f.attname: f for f in model._meta.concrete_fields}
        fields = [fields_by_column[c] for c in columns]
        prepared = [
            [f.get_db_prep_value(v, connection, prepared=False) for f, v in zip(fields, row, strict=True)]
            for row in rows
        ]
        names = ", ".join(connection.ops.quote_name(c) for c in columns)
        placeholders = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({names}) VALUES ({placeholders})"  # noqa: S608 (names from model metadata)
        with connection.cursor() as cursor:
            cursor.executemany(sql, prepared)

    def write(self, chunk: Chunk) -> None:
        self._insert(Person, PERSON_COLUMNS, chunk.people)
        self._insert(Identity, IDENTITY_COLUMNS, chunk.identities)
        self._insert(Application, APPLICATION_COLUMNS, chunk.applications)
        self._insert(ApplicationNationality, COUNTRY_COLUMNS, chunk.nationalities)
        self._insert(ApplicationExploitationCountry, COUNTRY_COLUMNS, chunk.exploitation_countries)
        self._insert(Decision, DECISION_COLUMNS, chunk.decisions)
        self._insert(ApplicationEvent, EVENT_COLUMNS, chunk.events)
        for name, rows in chunk.m2m.items():
            through = Application._meta.get_field(name).remote_field.through
            self._insert(through, _m2m_columns(name), rows)


# Above this many applications (and when the load at least doubles the table), PostgreSQL loads run in one
# transaction with the target tables' secondary indexes and foreign keys dropped and rebuilt at the end: building
# an index once is far cheaper than maintaining it row by row, and one validation query per foreign key replaces
# a trigger call per row. DDL is transactional in PostgreSQL, so a failed load leaves every index in place.
BULK_THRESHOLD = 50_000


def _bulk_tables() -> list[str]:
    tables = [m._meta.db_table for m in (Person, Identity, Application, ApplicationNationality)]
    tables += [m._meta.db_table for m in (ApplicationExploitationCountry, Decision, ApplicationEvent)]
    tables += [Application._meta.get_field(name).remote_field.through._meta.db_table for name in M2M_FIELDS]
    return tables


class _IndexesDropped:
    """Drop the secondary indexes, unique and foreign-key constraints of ``tables``; ``restore`` recreates them
    from the definitions PostgreSQL itself reported (pg_get_indexdef / pg_get_constraintdef)."""

    def __init__(self, tables: list[str]):
        self.tables = tables
        self.constraints: list[tuple[str, str, str]] = []
        self.indexes: list[str] = []

    def drop(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            cursor.execute(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype FROM pg_constraint "
                "WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('f', 'u') ORDER BY contype DESC",
                [self.tables],
            )
            # Foreign keys ('f') come after unique constraints ('u') in the DESC order: drop them first, restore
            # them last.
            rows = cursor.fetchall()
            self.constraints = [(t, name, ddl) for t, name, ddl, _ in rows]
            for table, name, _ in self.constraints:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            cursor.execute(
                "SELECT pg_get_indexdef(indexrelid), indexrelid::regclass::text FROM pg_index "
                "WHERE indrelid = ANY(%s::regclass[]) AND NOT indisprimary",
                [self.tables],
            )
            found = cursor.fetchall()
            self.indexes = [ddl for ddl, _ in found]
            for _, name in found:
                cursor.execute(f"DROP INDEX {name}")

    def restore(self) -> None:
        with connection.cursor() as cursor:
            for ddl in self.indexes:
                cursor.execute(ddl)
            for table, name, ddl in reversed(self.constraints):
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {ddl}')
            for table in self.tables:
                cursor.execute(f"ANALYZE {table}")


def _reserve(model, n: int) -> int:
    """Reserve ``n`` consecutive ids of ``model``'s sequence in one statement; returns the first. Called while
    the bulk load holds the table's exclusive lock, so no other insert can take ids in between."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), nextval(pg_get_serial_sequence(%s, 'id')) + %s - 1)",
            [model._meta.db_table, model._meta.db_table, n],
        )
        last = cursor.fetchone()[0]
    return last - n + 1


class _Abort(Exception):
    pass


def _seed_bulk(*, sizes: list[int], generator: Generator, totals: dict, progress) -> None:
    """The large PostgreSQL load: this thread generates chunk k+1 while a writer thread (with its own connection
    and the one transaction) COPYs chunk k, so Python's work and the database's overlap. A failure on either
    side rolls the whole load back (indexes included)."""
    total = sum(sizes)
    chunks: queue.Queue = queue.Queue(maxsize=2)
    started: queue.Queue = queue.Queue()
    failure: list[BaseException] = []

    def write_all() -> None:
        try:
            with transaction.atomic():
                dropped = _IndexesDropped(_bulk_tables())
                dropped.drop()
                started.put({m: _reserve(m, k * total) for m, k in ((Application, 1), (Person, 1), (Decision, 2))})
                writer = _PostgresWriter()
                while (chunk := chunks.get()) is not None:
                    if chunk is _Abort:
                        raise _Abort
                    writer.write(chunk)
                if progress:
                    progress({**totals, "stage": "rebuilding indexes"})
                dropped.restore()
        except BaseException as error:  # handed to the generating thread, which re-raises it
            failure.append(error)
            started.put(None)
            if not isinstance(error, _Abort):
                while chunks.get() is not None:  # unblock the producer until it notices and stops
                    pass
        finally:
            connection.close()

    thread = threading.Thread(target=write_all, name="seed_demo-writer")
    thread.start()
    first = started.get()
    try:
        if first is None:
            raise failure[0]
        offset = 0
        for n in sizes:
            app_ids = range(first[Application] + offset, first[Application] + offset + n)
            person_ids = range(first[Person] + offset, first[Person] + offset + n)
            decision_ids = range(first[Decision] + 2 * offset, first[Decision] + 2 * offset + 2 * n)
            chunk = generator.chunk(application_ids=app_ids, person_ids=person_ids, decision_ids=decision_ids)
            offset += n
            if failure:
                raise failure[0]
            chunks.put(chunk)
            _count(totals, chunk)
            if progress:
                progress(totals)
        chunks.put(None)
    except BaseException:
        if not failure:
            chunks.put(_Abort)
        else:
            chunks.put(None)
        thread.join()
        raise
    thread.join()
    if failure:
        raise failure[0]


def _count(totals: dict, chunk: Chunk) -> None:
    totals["applications"] += len(chunk.applications)
    totals["people"] += len(chunk.people)
    totals["decisions"] += len(chunk.decisions)
    totals["rows"] += chunk.row_count()


def seed(*, applications: int, seed: int = 1, chunk_size: int = 20_000, progress=None) -> dict:
    """Create ``applications`` synthetic applications (with their people, identities, facts, decisions and
    workflow events) in chunks of ``chunk_size``. Small loads commit chunk by chunk; a large load on PostgreSQL
    is one transaction with indexes rebuilt at the end and generation overlapped with COPY (see BULK_THRESHOLD).
    Returns row counts."""
    reference = _reference()
    generator = Generator(seed=seed, reference=reference)
    postgres = connection.vendor == "postgresql"
    totals = {"applications": 0, "people": 0, "decisions": 0, "rows": 0, "bulk": False}
    sizes = [min(chunk_size, applications - start) for start in range(0, applications, chunk_size)]
    if postgres and applications >= BULK_THRESHOLD and applications >= Application.objects.count():
        totals["bulk"] = True
        _seed_bulk(sizes=sizes, generator=generator, totals=totals, progress=progress)
        return totals
    writer = _PostgresWriter() if postgres else _DjangoWriter()
    for n in sizes:
        with transaction.atomic():
            app_ids = writer.allocate(Application, n)
            person_ids = writer.allocate(Person, n)
            decision_ids = writer.allocate(Decision, 2 * n)
            chunk = generator.chunk(application_ids=app_ids, person_ids=person_ids, decision_ids=decision_ids)
            writer.write(chunk)
        _count(totals, chunk)
        if progress:
            progress(totals)
    return totals
