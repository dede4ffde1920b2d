"""What the indicators are broken down by (dimensions), what they count (measures), and which combinations are
precomputed (cell sets). Report pages, the API and the recompute all read these definitions; nothing else
lists dimensions.

Codes are the stable identifiers used in URLs and stored in the indicator tables; ``""`` stands for "not
recorded". Labels are looked up at call time in the active language.

Which cells are precomputed (documented in docs/ARCHITECTURE.md, "Cell sets"):

* every dimension alone (one-way); the cantons of residence and of recruitment and the district of residence
  only so (maps): too many codes to cross, and a small count plus a canton can identify a person;
* every pair of the profile dimensions, the institution and the GLOTIP victim group (``PAIRWISE``);
  the institution, sex, age group, victim group and nationality each with every case fact and place;
  the form of exploitation with the other facts (the relations heat-map); recruitment -> exploitation places
  (flows);
* every triple of sex, age group, nationality, migration status, gender identity and province of residence
  (``THREE_WAY``); victim group x nationality x each of form, means, recruitment and control method (so
  "girls of Nicaraguan nationality recruited through social networks" is one cell); victim group x form x
  country of exploitation; sex x age group x form (SDG 16.2.2);
* the victim profile: sex x age group x nationality x form of exploitation, read only by ``profiles``.

Selectors refuse (ValueError) any other combination: cross-tabs combine at most three dimensions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import combinations

from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

PROFILE = "profile"
INSTITUTION = "institution"
FACT = "fact"
PLACE = "place"

NOT_RECORDED = ""


@dataclass(frozen=True)
class Dimension:
    """A way of breaking down the indicators. ``multi_valued``: an application may hold several values (its
    count then appears under each of them, so the values of one application do not add up to the total)."""

    name: str
    label: Promise
    kind: str
    multi_valued: bool = False
    _labels: Callable[[], dict[str, str]] = field(default=lambda: {}, repr=False, compare=False)

    def labels(self) -> dict[str, str]:
        """Every code of the dimension with its label in the active language, in display order, ending with
        ``""`` for "not recorded"."""
        labels = dict(self._labels())
        labels[NOT_RECORDED] = str(_("Not recorded"))
        return labels


@dataclass(frozen=True)
class Measure:
    """Something counted per year. ``definition`` says what counts and which date places a case in a year."""

    name: str
    label: Promise
    definition: Promise


def _english() -> bool:
    return (get_language() or "es").startswith("en")


def _code_list(list_name: str) -> Callable[[], dict[str, str]]:
    def labels() -> dict[str, str]:
        from records.models import Code

        field_name = "label_en" if _english() else "label_es"
        return {
            code: (label or fallback)
            # A code meaning "No registrado" is counted as the blank, whose label ends every list.
            for code, label, fallback in Code.objects.filter(list=list_name, means_not_recorded=False)
            .order_by("sort_order", "code")
            .values_list("code", field_name, "label_es")
        }

    return labels


def _institutions() -> dict[str, str]:
    from accounts.models import Institution

    field_name = "name_en" if _english() else "name_es"
    return dict(Institution.objects.order_by("code").values_list("code", field_name))


def _countries() -> dict[str, str]:
    from django_countries import countries

    return {code: str(name) for code, name in countries}


def _provinces() -> dict[str, str]:
    from records.models import Province

    return dict(Province.objects.order_by("code").values_list("code", "name"))


def _cantons() -> dict[str, str]:
    from records.models import Canton

    return dict(Canton.objects.order_by("code").values_list("code", "name"))


def _districts() -> dict[str, str]:
    from records.models import District

    return {
        code: f"{name} ({canton})"
        for code, name, canton in District.objects.order_by("code").values_list("code", "name", "canton__name")
    }


def _languages() -> dict[str, str]:
    from records.models import Language

    field_name = "name_en" if _english() else "name_es"
    return dict(Language.objects.order_by(field_name).values_list("code", field_name))


def _places() -> dict[str, str]:
    """Places of recruitment or exploitation: a province of the portal's country by its ISO 3166-2 code, or a
    country by its ISO 3166-1 code (the portal's own country when no province is known)."""
    from records.models import Province

    provinces = {iso: name for iso, name in Province.objects.order_by("code").values_list("iso_3166_2", "name") if iso}
    return {**provinces, **_countries()}


VICTIM_GROUPS = {
    "GIRL": _("Girls"),
    "BOY": _("Boys"),
    "WOMAN": _("Women"),
    "MAN": _("Men"),
}


def _victim_groups() -> dict[str, str]:
    return {code: str(label) for code, label in VICTIM_GROUPS.items()}


_DIMENSIONS = [
    Dimension("institution", _("Institution"), INSTITUTION, _labels=_institutions),
    Dimension("age_group", _("Age group"), PROFILE, _labels=_code_list("age_group")),
    Dimension("victim_group", _("Girls, boys, women and men"), PROFILE, _labels=_victim_groups),
    Dimension("sex", _("Sex"), PROFILE, _labels=_code_list("sex")),
    Dimension("gender_identity", _("Gender identity"), PROFILE, _labels=_code_list("gender_identity")),
    Dimension("nationality", _("Nationality"), PROFILE, _labels=_countries),
    Dimension("migration_status", _("Migration status"), PROFILE, _labels=_code_list("migration_status")),
    Dimension("occupation", _("Occupation"), PROFILE, _labels=_code_list("occupation")),
    Dimension("education", _("Education level"), PROFILE, _labels=_code_list("education_level")),
    Dimension("residence_province", _("Province of residence"), PROFILE, _labels=_provinces),
    Dimension("residence_canton", _("Canton of residence"), PROFILE, _labels=_cantons),
    Dimension("residence_district", _("District of residence"), PROFILE, _labels=_districts),
    Dimension("mother_tongue", _("Mother tongue"), PROFILE, _labels=_languages),
    Dimension("exploitation_form", _("Form of exploitation"), FACT, True, _labels=_code_list("exploitation_form")),
    Dimension("means", _("Means"), FACT, True, _labels=_code_list("means")),
    Dimension("recruitment_method", _("Recruitment method"), FACT, True, _labels=_code_list("recruitment_method")),
    Dimension("control_method", _("Method of control"), FACT, True, _labels=_code_list("control_method")),
    Dimension(
        "relationship", _("Relationship to the trafficker"), FACT, _labels=_code_list("relationship_to_trafficker")
    ),
    Dimension("recruitment_province", _("Province of recruitment"), PLACE, _labels=_provinces),
    Dimension("recruitment_canton", _("Canton of recruitment"), PLACE, _labels=_cantons),
    Dimension("recruitment_country", _("Country of recruitment"), PLACE, _labels=_countries),
    Dimension("recruitment_place", _("Place of recruitment"), PLACE, _labels=_places),
    Dimension("exploitation_country", _("Country of exploitation"), PLACE, True, _labels=_countries),
    Dimension("exploitation_province", _("Province of exploitation"), PLACE, True, _labels=_provinces),
    Dimension("exploitation_place", _("Place of exploitation"), PLACE, True, _labels=_places),
]

DIMENSIONS: dict[str, Dimension] = {d.name: d for d in _DIMENSIONS}

# One nullable column per dimension in IndicatorCell.
CELL_DIMENSION_COLUMNS: tuple[str, ...] = tuple(DIMENSIONS)

PROFILE_DIMENSIONS = tuple(d.name for d in _DIMENSIONS if d.kind == PROFILE)
MULTI_VALUED = frozenset(d.name for d in _DIMENSIONS if d.multi_valued)

# Pairs that are the same fact at two resolutions: crossing them says nothing.
_DERIVED = [
    {"victim_group", "sex"},
    {"victim_group", "age_group"},
    {"residence_province", "residence_canton"},
    {"residence_province", "residence_district"},
    {"residence_canton", "residence_district"},
    {"recruitment_place", "recruitment_province"},
    {"recruitment_place", "recruitment_country"},
    {"recruitment_province", "recruitment_country"},
    {"recruitment_canton", "recruitment_province"},
    {"recruitment_canton", "recruitment_place"},
    {"recruitment_canton", "recruitment_country"},
    {"exploitation_place", "exploitation_province"},
    {"exploitation_place", "exploitation_country"},
    {"exploitation_province", "exploitation_country"},
]

# The profile dimensions of DOMAIN.md crossed two by two (with the institution and the GLOTIP victim group).
PAIRWISE = (
    "institution",
    "age_group",
    "victim_group",
    "sex",
    "gender_identity",
    "nationality",
    "migration_status",
    "occupation",
    "education",
    "residence_province",
    "mother_tongue",
)
# Three-way intersections: every triple of these (geography at province level).
THREE_WAY = ("sex", "age_group", "nationality", "migration_status", "gender_identity", "residence_province")
# The victim-group triples (GLOTIP: girls, boys, women, men) with nationality and each case fact.
GROUP_CORE = ("victim_group", "sex", "age_group", "nationality")
CASE_FACTS = (
    "exploitation_form",
    "means",
    "recruitment_method",
    "control_method",
    "relationship",
    "recruitment_place",
    "exploitation_country",
    "exploitation_place",
)
PROFILE_SET = ("sex", "age_group", "nationality", "exploitation_form")


def _related(dims) -> bool:
    return any(pair <= set(dims) for pair in _DERIVED)


def cell_set_key(dims) -> str:
    """The stored name of a combination of dimensions: sorted names joined with "|" ("" for the total)."""
    return "|".join(sorted(dims))


def _cell_sets() -> tuple[tuple[str, ...], ...]:
    sets: list[tuple[str, ...]] = [()]
    sets += [(d,) for d in DIMENSIONS]
    sets += [p for p in combinations(PAIRWISE, 2) if not _related(p)]
    sets += [("institution", d) for d in CASE_FACTS]
    sets += [(p, f) for p in GROUP_CORE for f in CASE_FACTS]
    sets += [("exploitation_form", f) for f in CASE_FACTS if f != "exploitation_form"]
    sets += [("recruitment_place", "exploitation_place"), ("recruitment_country", "exploitation_country")]
    sets += list(combinations(THREE_WAY, 3))
    sets += [("victim_group", *p) for p in combinations(("nationality", "migration_status", "residence_province"), 2)]
    sets += [("victim_group", "nationality", f) for f in CASE_FACTS[:4]]
    sets += [("victim_group", "exploitation_form", "exploitation_country"), ("sex", "age_group", "exploitation_form")]
    sets.append(PROFILE_SET)
    unique: dict[str, tuple[str, ...]] = {}
    for dims in sets:
        unique.setdefault(cell_set_key(dims), tuple(sorted(dims)))
    return tuple(unique.values())


# Every precomputed combination, dimensions sorted by name.
CELL_SETS: tuple[tuple[str, ...], ...] = _cell_sets()
CELL_SET_KEYS = frozenset(cell_set_key(s) for s in CELL_SETS)

# Timeliness (a histogram of business days to decision) is kept per year of decision, alone and by each
# profile dimension or the institution (the dashboard's filters).
TIMELINESS_SETS: tuple[tuple[str, ...], ...] = ((),) + tuple((d,) for d in PAIRWISE)
TIMELINESS_SET_KEYS = frozenset(cell_set_key(s) for s in TIMELINESS_SETS)

# Multi-valued facts of a code list, kept as bit masks in ApplicationFact (dimension -> code list or "province").
MASKED = {
    "exploitation_form": "exploitation_form",
    "means": "means",
    "recruitment_method": "recruitment_method",
    "control_method": "control_method",
    "exploitation_province": "province",
}
# Multi-valued facts kept as bridge rows (ApplicationFactValue).
BRIDGED = ("exploitation_country", "exploitation_place")


_YEAR_RECEIVED = _("A case counts in the year its application was received.")
_YEAR_DECIDED = _("A case counts in the year of the ERI's decision (the date of its resolution).")

_MEASURES = [
    Measure(
        "received",
        _("Applications received"),
        format_lazy(
            "{}{}",
            _(
                "Applications for accreditation submitted by an institution (drafts are not counted; withdrawn "
                "applications are). "
            ),
            _YEAR_RECEIVED,
        ),
    ),
    Measure(
        "decided",
        _("Applications decided"),
        format_lazy(
            "{}{}", _("Applications the ERI decided, whether it accredited the person or not. "), _YEAR_DECIDED
        ),
    ),
    Measure(
        "accredited",
        _("Accredited victims (applications)"),
        format_lazy(
            "{}{}",
            _(
                "Applications whose current decision accredits the person as a victim of trafficking; a person "
                "accredited through two applications counts twice. "
            ),
            _YEAR_DECIDED,
        ),
    ),
    Measure(
        "accredited_persons",
        _("Accredited victims (persons)"),
        format_lazy(
            "{}{}",
            _(
                "Distinct persons accredited as victims of trafficking: applications of the same person (recognised "
                "by the pseudonymous person key, also across institutions) count once per year and cell; over "
                "several years a person counts once in each year. "
            ),
            _YEAR_DECIDED,
        ),
    ),
    Measure(
        "not_accredited",
        _("Not accredited"),
        format_lazy("{}{}", _("Applications whose current decision does not accredit the person. "), _YEAR_DECIDED),
    ),
    Measure(
        "pending",
        _("Pending at year end"),
        _(
            "Submitted applications not yet decided on 31 December of the year (received on or before that day, "
            "decided after it or not yet; withdrawn applications are left out). For the current year: pending "
            "on the date the data is from."
        ),
    ),
    Measure(
        "overdue",
        _("Overdue applications"),
        format_lazy(
            "{}{}",
            _(
                "Applications still awaiting the ERI's decision after their legal deadline (7 business days, "
                "Ley 9095), on the date the data is from. "
            ),
            _YEAR_RECEIVED,
        ),
    ),
    Measure(
        "decided_within_deadline",
        _("Decided within the deadline"),
        format_lazy(
            "{}{}",
            _(
                "Decided applications whose decision came on or before the legal deadline (7 business days, "
                "Ley 9095; Costa Rican public holidays do not count). "
            ),
            _YEAR_DECIDED,
        ),
    ),
]

MEASURES: dict[str, Measure] = {m.name: m for m in _MEASURES}

# Fields whose completeness is reported per institution and year (name -> label).
COMPLETENESS_FIELDS: dict[str, Promise] = {
    "age_at_application": _("Age at application"),
    "sex": _("Sex"),
    "gender_identity": _("Gender identity"),
    "nationality": _("Nationality"),
    "migration_status": _("Migration status"),
    "occupation": _("Occupation"),
    "education": _("Education level"),
    "residence_district": _("District of residence"),
    "mother_tongue": _("Mother tongue"),
    "relationship": _("Relationship to the trafficker"),
    "recruitment_place": _("Place of recruitment"),
    "exploitation_form": _("Form of exploitation"),
    "means": _("Means"),
    "recruitment_method": _("Recruitment method"),
    "control_method": _("Method of control"),
    "exploitation_country": _("Country of exploitation"),
}


# Rough number of codes in use per dimension, for planning the recompute only (a wrong guess costs time, not
# correctness).
_CARDINALITY = {
    "institution": 12,
    "age_group": 8,
    "victim_group": 4,
    "sex": 4,
    "gender_identity": 7,
    "nationality": 25,
    "migration_status": 11,
    "occupation": 15,
    "education": 11,
    "residence_province": 8,
    "residence_canton": 85,
    "residence_district": 490,
    "mother_tongue": 10,
    "relationship": 6,
    "recruitment_province": 8,
    "recruitment_canton": 85,
    "recruitment_country": 25,
    "recruitment_place": 30,
    "exploitation_form": 13,
    "means": 10,
    "recruitment_method": 10,
    "control_method": 17,
    "exploitation_country": 15,
    "exploitation_province": 8,
    "exploitation_place": 20,
}
# A base (one pass over the facts) may hold up to this many code combinations.
BASE_COMBINATIONS = 2000


def _combinations(dims) -> int:
    dims = set(dims)
    if {"sex", "age_group"} <= dims:
        dims.discard("victim_group")  # determined by sex and age group
    total = 1
    for d in dims:
        total *= _CARDINALITY.get(d, 50)
    return total


def plan_bases(sets) -> list[tuple[tuple[str, ...], list[tuple[str, ...]]]]:
    """Group cell sets into bases: each base is one GROUP BY pass over the facts, and every set assigned to it
    is then summed from the base's (much smaller) result. Sets are only summed from a base with the same
    multi-valued dimensions (a multi-valued join repeats an application once per value). Greedy: largest sets
    first, each joins the first base that already contains it or stays under ``BASE_COMBINATIONS`` with it."""
    plans: list[tuple[set, list]] = []
    for cell_set in sorted(sets, key=lambda s: (-len(s), s)):
        multi = {d for d in cell_set if d in MULTI_VALUED}
        chosen = None
        for base, members in plans:
            if {d for d in base if d in MULTI_VALUED} != multi:
                continue
            if set(cell_set) <= base or _combinations(base | set(cell_set)) <= BASE_COMBINATIONS:
                chosen = (base, members)
                break
        if chosen is None:
            plans.append((set(cell_set), [cell_set]))
        else:
            chosen[0].update(cell_set)
            chosen[1].append(cell_set)
    return [(tuple(sorted(base)), members) for base, members in plans]


# One pass over the facts may feed the bases of up to this many code combinations in all (one hash table per
# base, held in memory together; see ``plan_passes``).
PASS_COMBINATIONS = 16000


def plan_passes(bases) -> list[list[tuple[tuple[str, ...], list[tuple[str, ...]]]]]:
    """Group the bases of ``plan_bases`` into passes: the bases of one pass join the same multi-valued facts, so
    one scan of the facts feeds all of them, and their code combinations add up to at most
    ``PASS_COMBINATIONS`` (what bounds the database's memory for the pass)."""
    passes: list[tuple[frozenset, int, list]] = []
    for base, members in bases:
        multi = frozenset(d for d in base if d in MULTI_VALUED)
        size = _combinations(base)
        for i, (other, total, chosen) in enumerate(passes):
            if other == multi and total + size <= PASS_COMBINATIONS:
                chosen.append((base, members))
                passes[i] = (other, total + size, chosen)
                break
        else:
            passes.append((multi, size, [(base, members)]))
    return [chosen for _, _, chosen in passes]
