"""People, applications for accreditation of victim status, ERI decisions, code lists and geography: one package
(``applications``: people, identities, applications, decisions and their events; ``reference_data``: code lists,
geography, population), one entry point. Django finds the models through the names imported here.

Identity data (names, document, birth date, contact, narrative) lives in ``Identity`` and
``Application.narrative`` only; everything else here is profile and case facts, the material of statistics.
Writes go through ``records.services``; reads that depend on who asks go through ``accounts.access``.
"""

# Imported last: bulk import jobs live in records.imports, whose models import these.
from records.imports.models import ImportJob  # noqa: E402, I001

from .applications import (
    CLOSED_STATUSES,
    DECIDED_STATUSES,
    Application,
    ApplicationEvent,
    ApplicationExploitationCountry,
    ApplicationGroupObjectPermission,
    ApplicationNationality,
    ApplicationUserObjectPermission,
    Decision,
    Identity,
    Person,
    Status,
)
from .reference_data import Canton, Code, CodeList, District, Language, Population, Province

__all__ = [
    "CLOSED_STATUSES",
    "DECIDED_STATUSES",
    "Application",
    "ApplicationEvent",
    "ApplicationExploitationCountry",
    "ApplicationGroupObjectPermission",
    "ApplicationNationality",
    "ApplicationUserObjectPermission",
    "Canton",
    "Code",
    "CodeList",
    "Decision",
    "District",
    "ImportJob",
    "Identity",
    "Language",
    "Person",
    "Population",
    "Province",
    "Status",
]
