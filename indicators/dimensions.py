"""What the indicators are broken down by (dimensions), what they count (measures), and which combinations are
precomputed (cell sets). Report pages, the API and the recompute all read these definitions; nothing else
lists dimensions.

Codes are the stable identifiers used in URLs and stored in the indicator tables; ``""`` stands for "not
recorded". Labels are looked up at call time in the active language.

Which cells are precomputed (documented in docs/parts/architecture-indicators.md):

* every dimension alone, per year (one-way);
* every pair of the crossable dimensions (profile, institution, case facts, places), except pairs of two
  multi-valued facts other than those with the form of exploitation (the relations heat-map), and pairs of a
  dimension with one derived from it (sex with the GLOTIP victim group, province with canton, ...);
* every triple of the profile dimensions (institution included) with geography at province level, and every
  triple of two of sex / age group / victim group / nationality with one case fact (so "girls of Nicaraguan
  nationality recruited through social networks" is one cell);
* the victim profile: sex x age group x nationality x form of exploitation, read only by ``profiles``.

Selectors refuse (ValueError) any other combination: cross-tabs combine at most three dimensions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import combinations

from django.utils.functional import Promise
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
    # How the selectors read it: the stored measures summed, and the column of IndicatorCell summed.
    stored: tuple[str, ...]
    column: str = "n"


def _english() -> bool:
    return (get_language() or "es").startswith("en")


def _code_list(list_name: str) -> Callable[[], dict[str, str]]:
    def labels() -> dict[str, str]:
        from records.models import Code

        field_name = "label_en" if _english() else "label_es"
        return {
            code: (label or fallback)
            for code, label, fallback in Code.objects.filter(list=list_name)
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
    {"exploitation_place", "exploitation_province"},
    {"exploitation_place", "exploitation_country"},
    {"exploitation_province", "exploitation_country"},
]

# Dimensions crossed with others (district and canton are shown alone, on maps that roll up to province).
CROSSABLE = tuple(d for d in DIMENSIONS if d not in {"residence_district", "residence_canton"})
THREE_WAY = (
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
THREE_WAY_CORE = ("victim_group", "sex", "age_group", "nationality")
THREE_WAY_FACTS = ("exploitation_form", "means", "recruitment_method", "control_method")
PROFILE_SET = ("sex", "age_group", "nationality", "exploitation_form")


def _related(dims) -> bool:
    return any(pair <= set(dims) for pair in _DERIVED)


def cell_set_key(dims) -> str:
    """The stored name of a combination of dimensions: sorted names joined with "|" ("" for the total)."""
    return "|".join(sorted(dims))


def _cell_sets() -> tuple[tuple[str, ...], ...]:
    sets: list[tuple[str, ...]] = [()]
    sets += [(d,) for d in DIMENSIONS]
    for pair in combinations(CROSSABLE, 2):
        multi = [d for d in pair if d in MULTI_VALUED]
        if len(multi) == 2 and "exploitation_form" not in multi:
            continue
        if not _related(pair):
            sets.append(pair)
    sets += [t for t in combinations(THREE_WAY, 3) if not _related(t)]
    for pair in combinations(THREE_WAY_CORE, 2):
        if not _related(pair):
            sets += [(*pair, fact) for fact in THREE_WAY_FACTS]
    sets.append(PROFILE_SET)
    unique: dict[str, tuple[str, ...]] = {}
    for dims in sets:
        unique.setdefault(cell_set_key(dims), tuple(sorted(dims)))
    return tuple(unique.values())


# Every precomputed combination, dimensions sorted by name.
CELL_SETS: tuple[tuple[str, ...], ...] = _cell_sets()
CELL_SET_KEYS = frozenset(cell_set_key(s) for s in CELL_SETS)

# Timeliness (a histogram of business days to decision) is kept per year, alone and by one profile dimension
# or the institution.
TIMELINESS_SETS: tuple[tuple[str, ...], ...] = ((),) + tuple((d,) for d in THREE_WAY)
TIMELINESS_SET_KEYS = frozenset(cell_set_key(s) for s in TIMELINESS_SETS)


_YEAR_RECEIVED = _("A case counts in the year its application was received.")
_YEAR_DECIDED = _("A case counts in the year of the ERI's decision (the date of its resolution).")

_MEASURES = [
    Measure(
        "received",
        _("Applications received"),
        _(
            "Applications for accreditation submitted by an institution (drafts are not counted; withdrawn "
            "applications are). "
        )
        + _YEAR_RECEIVED,
        ("received",),
    ),
    Measure(
        "decided",
        _("Applications decided"),
        _("Applications the ERI decided, whether it accredited the person or not. ") + _YEAR_DECIDED,
        ("accredited", "not_accredited"),
    ),
    Measure(
        "accredited",
        _("Accredited victims (applications)"),
        _(
            "Applications whose current decision accredits the person as a victim of trafficking; a person "
            "accredited through two applications counts twice. "
        )
        + _YEAR_DECIDED,
        ("accredited",),
    ),
    Measure(
        "accredited_persons",
        _("Accredited victims (persons)"),
        _(
            "Distinct persons accredited as victims of trafficking: applications of the same person (recognised "
            "by the pseudonymous person key, also across institutions) count once per year and cell; over "
            "several years a person counts once in each year. "
        )
        + _YEAR_DECIDED,
        ("accredited",),
        "persons",
    ),
    Measure(
        "not_accredited",
        _("Not accredited"),
        _("Applications whose current decision does not accredit the person. ") + _YEAR_DECIDED,
        ("not_accredited",),
    ),
    Measure(
        "pending",
        _("Pending at year end"),
        _(
            "Submitted applications not yet decided on 31 December of the year (received on or before that day, "
            "decided after it or not yet; withdrawn applications are left out). For the current year: pending "
            "on the date the data is from."
        ),
        ("pending",),
    ),
    Measure(
        "overdue",
        _("Overdue applications"),
        _(
            "Applications still awaiting the ERI's decision after their legal deadline (7 business days, "
            "Ley 9095), on the date the data is from. "
        )
        + _YEAR_RECEIVED,
        ("overdue",),
    ),
    Measure(
        "decided_within_deadline",
        _("Decided within the deadline"),
        _(
            "Decided applications whose decision came on or before the legal deadline (7 business days, "
            "Ley 9095; Costa Rican public holidays do not count). "
        )
        + _YEAR_DECIDED,
        ("accredited", "not_accredited"),
        "within_deadline",
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
