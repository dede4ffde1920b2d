"""The shape of an import file, one row per application: the columns, their Spanish names (the template's) and
their English names (also accepted), and what each one holds. The export writes the same shape, so an exported
file can be corrected and imported again."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from records.models import CodeList

# Multi-valued cells (forms of exploitation, nationalities, ...) separate their values with one of these.
MULTI_SEPARATORS = re.compile(r"\s*[;|]\s*")


@dataclass(frozen=True)
class Column:
    key: str  # the attribute on Application (or Identity) it feeds
    es: str  # header in the template (Spanish)
    en: str  # header also accepted (English)
    kind: str  # text | date | int | code | codes | status | document_type | province | canton | district | districts
    #            | country | countries | language | institution
    code_list: str = ""
    required: bool = False
    identity: bool = False  # identity data: only for those entitled, never echoed in error messages
    multi: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("institution", "institucion", "institution", "institution"),
    Column("case_reference", "referencia_caso", "case_reference", "text", required=True),
    Column("received_on", "fecha_recepcion", "received_on", "date", required=True),
    Column("status", "estado", "status", "status", code_list=CodeList.APPLICATION_STATUS),
    Column("decided_on", "fecha_decision", "decided_on", "date"),
    # The ERI's resolution of a decided application (its date is the decision date): see DECISION_KEYS.
    Column("resolution_number", "numero_resolucion", "resolution_number", "text"),
    Column("votes_in_favour", "votos_favor", "votes_in_favour", "int"),
    Column("votes_against", "votos_contra", "votes_against", "int"),
    Column("abstentions", "abstenciones", "abstentions", "int"),
    Column("decision_reasons", "fundamentos", "decision_reasons", "text"),
    Column("document_type", "tipo_documento", "document_type", "document_type", identity=True),
    Column("document_number", "numero_documento", "document_number", "text", identity=True),
    Column("given_names", "nombres", "given_names", "text", identity=True),
    Column("family_names", "apellidos", "family_names", "text", identity=True),
    Column("birth_date", "fecha_nacimiento", "birth_date", "date", identity=True),
    Column("sex", "sexo", "sex", "code", code_list=CodeList.SEX),
    Column("gender_identity", "identidad_genero", "gender_identity", "code", CodeList.GENDER_IDENTITY),
    Column("age_at_application", "edad_solicitud", "age_at_application", "int"),
    Column("age_at_recruitment", "edad_reclutamiento", "age_at_recruitment", "int"),
    Column("nationalities", "nacionalidades", "nationalities", "countries", multi=True),
    Column(
        "migration_status",
        "condicion_migratoria",
        "migration_status",
        "code",
        CodeList.MIGRATION_STATUS,
    ),
    Column("education_level", "nivel_educativo", "education_level", "code", CodeList.EDUCATION_LEVEL),
    Column("occupation", "ocupacion", "occupation", "code", CodeList.OCCUPATION),
    Column("mother_tongue", "lengua_materna", "mother_tongue", "language"),
    Column("residence_province", "provincia", "province", "province"),
    Column("residence_canton", "canton", "canton", "canton"),
    Column("residence_district", "distrito", "district", "district"),
    Column(
        "exploitation_forms",
        "formas_explotacion",
        "exploitation_forms",
        "codes",
        CodeList.EXPLOITATION_FORM,
        multi=True,
    ),
    Column(
        "sexual_exploitation_types",
        "tipos_explotacion_sexual",
        "sexual_exploitation_types",
        "codes",
        CodeList.SEXUAL_EXPLOITATION_TYPE,
        multi=True,
    ),
    Column(
        "labour_sectors",
        "sectores_laborales",
        "labour_sectors",
        "codes",
        CodeList.LABOUR_SECTOR,
        multi=True,
    ),
    Column("means", "medios", "means", "codes", CodeList.MEANS, multi=True),
    Column("acts", "actos", "acts", "codes", CodeList.ACT, multi=True),
    Column(
        "recruitment_methods",
        "metodos_reclutamiento",
        "recruitment_methods",
        "codes",
        CodeList.RECRUITMENT_METHOD,
        multi=True,
    ),
    Column(
        "control_methods",
        "metodos_control",
        "control_methods",
        "codes",
        CodeList.CONTROL_METHOD,
        multi=True,
    ),
    Column(
        "relationship_to_trafficker",
        "relacion_tratante",
        "relationship_to_trafficker",
        "code",
        CodeList.RELATIONSHIP_TO_TRAFFICKER,
    ),
    Column("recruitment_province", "provincia_reclutamiento", "recruitment_province", "province"),
    Column("recruitment_canton", "canton_reclutamiento", "recruitment_canton", "canton"),
    Column(
        "recruitment_district",
        "distrito_reclutamiento",
        "recruitment_district",
        "district",
    ),
    Column("recruitment_country", "pais_reclutamiento", "recruitment_country", "country"),
    Column(
        "exploitation_districts",
        "distritos_explotacion",
        "exploitation_districts",
        "districts",
        multi=True,
    ),
    Column(
        "exploitation_countries",
        "paises_explotacion",
        "exploitation_countries",
        "countries",
        multi=True,
    ),
)

BY_KEY = {c.key: c for c in COLUMNS}
# Columns of the resolution, not of the application: they create a Decision row and are never compared.
DECISION_KEYS = ("resolution_number", "votes_in_favour", "votes_against", "abstentions", "decision_reasons")
IDENTITY_KEYS = frozenset(c.key for c in COLUMNS if c.identity)
# The district column that a canton column narrows down.
CANTON_OF = {"residence_district": "residence_canton", "recruitment_district": "recruitment_canton"}
M2M_CODE_KEYS = tuple(c.key for c in COLUMNS if c.kind == "codes")
FK_CODE_KEYS = tuple(c.key for c in COLUMNS if c.kind == "code")


@lru_cache(maxsize=100_000)
def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    return " ".join(text.casefold().split())


def normalise(text: object) -> str:
    """Case-, accent- and spacing-insensitive form used to match headers, codes and labels. Cached: an import
    repeats the same few hundred codes and labels thousands of times."""
    return _normalise(text if isinstance(text, str) else str(text))


def header_key(text: object) -> str:
    return re.sub(r"[^a-z0-9]+", "_", normalise(text)).strip("_")


HEADER_INDEX: dict[str, Column] = {}
for _column in COLUMNS:
    HEADER_INDEX[header_key(_column.es)] = _column
    HEADER_INDEX[header_key(_column.en)] = _column


def template_columns(*, with_identity: bool = True, with_institution: bool = False) -> list[Column]:
    return [c for c in COLUMNS if (with_identity or not c.identity) and (with_institution or c.key != "institution")]
