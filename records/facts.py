"""The facts of an application, declared once, next to the model (``records.models.Application``).

The form, the import, the API, the demo generator, the exports and the services all read these lists; none of
them writes its own copy (they had drifted: the import knew five identity fields, the services eight, and the
import's age limit was a literal). The domain checks of these values are ``records.validation``.

Plain names only: this module imports nothing of the project, so the models can read ``MAX_AGE`` too.
"""

from __future__ import annotations

# The oldest age a person can be recorded with (the database refuses more, see the Application constraint).
MAX_AGE = 110

# A place in the country is kept at the level it was given: a province alone, a canton (with its province), or a
# district (with its canton and province). The coarser levels are always those of the finest one given.
PLACE_LEVELS = ("province", "canton", "district")
PLACES = ("recruitment", "residence")


def place_fields(place: str) -> tuple[str, str, str]:
    """(province, canton, district) field names of one place ("recruitment" or "residence")."""
    return tuple(f"{place}_{level}" for level in PLACE_LEVELS)  # type: ignore[return-value]


PLACE_FIELDS = tuple(name for place in PLACES for name in place_fields(place))

# Single-valued facts an officer writes (the rest of an application is workflow state).
SCALAR_FIELDS = (
    "case_reference",
    "received_on",
    "relationship_to_trafficker",
    *place_fields("recruitment"),
    "recruitment_country",
    "age_at_application",
    "age_at_recruitment",
    "sex",
    "gender_identity",
    "migration_status",
    "education_level",
    "occupation",
    *place_fields("residence"),
    "mother_tongue",
    "narrative",
)

# Many-to-many facts (rows of a code list or districts).
M2M_FIELDS = (
    "exploitation_forms",
    "sexual_exploitation_types",
    "labour_sectors",
    "means",
    "acts",
    "recruitment_methods",
    "control_methods",
    "exploitation_districts",
)
# Sets of countries, each stored in its own table (ApplicationNationality, ApplicationExploitationCountry).
COUNTRY_SETS = ("nationalities", "exploitation_countries")
MULTI_VALUED_FIELDS = (*M2M_FIELDS, *COUNTRY_SETS)

# Identity data of the person (records.Identity): visible only to those entitled, never in logs or analytics.
IDENTITY_FIELDS = (
    "given_names",
    "family_names",
    "document_type",
    "document_number",
    "birth_date",
    "phone",
    "email",
    "address",
)
# The identity fields an import file carries (contact details are entered one case at a time, never in bulk).
IMPORTED_IDENTITY_FIELDS = ("document_type", "document_number", "given_names", "family_names", "birth_date")
