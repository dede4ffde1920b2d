"""What the synthetic applications are drawn from: the weights of years, institutions, nationalities, places and
every code list, and the reference data of the database (codes, districts, languages, institutions) turned into
fast weighted pickers."""

from __future__ import annotations

import bisect
import datetime as dt
import random
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings

from accounts.models import Institution, User

from .. import deadlines
from ..models import Code, CodeList, District, Language

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


def below(rng: random.Random, n: int) -> int:
    """A uniform integer in [0, n): ``random.randrange`` without its argument checks, which dominate in a loop
    of millions."""
    return int(rng.random() * n)


class Picker:
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
class Reference:
    """What one seeding run draws from, read from the database once."""

    codes: dict[str, dict[str, int]]  # list -> code -> id
    pickers: dict[str, Picker]
    districts: Picker
    languages: Picker
    institutions: Picker
    nationality: Picker
    exploitation_country: Picker
    gender: dict[int | None, Picker]  # sex code id -> genders
    business_days: list[dt.date]
    user_id: int
    institution_ids: list[int] = field(default_factory=list)
    institution_codes: dict[int, str] = field(default_factory=dict)
    # district -> (canton, province): every stored place carries its coarser levels.
    levels_of: dict[str, tuple[str, str]] = field(default_factory=dict)

    def levels(self, district: str | None) -> tuple[str | None, str | None]:
        return self.levels_of[district] if district else (None, None)


def load_reference() -> Reference:
    """The database's code lists, districts, languages and institutions as weighted pickers, and the inactive user
    that records the synthetic decisions (created on first use)."""
    codes: dict[str, dict[str, int]] = {}
    for list_name, code, pk in Code.objects.values_list("list", "code", "id"):
        codes.setdefault(list_name, {})[code] = pk
    pickers = {}
    for list_name, by_code in codes.items():
        weights = CODE_WEIGHTS.get(list_name, {})
        smallest = min(weights.values()) if weights else 1
        pickers[list_name] = Picker({pk: weights.get(code, smallest) for code, pk in by_code.items()})
    gender: dict[int | None, Picker] = {}
    for sex, by_gender in GENDER_FOR_SEX.items():
        genders = codes[CodeList.GENDER_IDENTITY]
        known = {genders[g]: w for g, w in by_gender.items() if g in genders}
        gender[codes[CodeList.SEX].get(sex)] = Picker(known)
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
    return Reference(
        codes=codes,
        pickers=pickers,
        districts=Picker(district_weights),
        languages=Picker(languages),
        institutions=Picker(institutions),
        nationality=Picker(NATIONALITY_WEIGHTS),
        exploitation_country=Picker(EXPLOITATION_COUNTRY_WEIGHTS),
        gender=gender,
        business_days=deadlines.business_day_index(dt.date(FIRST_YEAR - 1, 12, 1), dt.date(LAST_YEAR + 2, 12, 31)),
        user_id=user.pk,
        institution_ids=list(institutions),
        institution_codes={i.pk: i.code for i in rows},
        levels_of=levels_of,
    )
