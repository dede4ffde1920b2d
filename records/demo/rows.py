"""The rows of one generated chunk, per table, and the columns they fill: the contract between the generator,
which produces plain tuples in these column orders, and the seeder, which hands them to the bulk writer."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import ManyToManyField

from ..facts import M2M_FIELDS
from ..models import Application

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


def m2m_field(name: str) -> ManyToManyField:
    field = Application._meta.get_field(name)
    assert isinstance(field, ManyToManyField), name  # noqa: S101 - M2M_FIELDS names many-to-many fields only
    return field


def m2m_columns(name: str) -> tuple[str, str]:
    """The link table's (application, code) columns of the many-to-many fact ``name``."""
    field = m2m_field(name)
    return field.m2m_column_name(), field.m2m_reverse_name()


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
