"""Exports of the applications a user may see, as CSV or XLSX, in the import template's shape (so an exported
file can be corrected and imported back). Visibility and identity entitlement come from accounts.access; the
view logs each export (EXPORT, and IDENTITY_EXPORT when identity columns are included)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet

from accounts import access
from records.models import Code, Decision, Identity

from .columns import Column, template_columns
from .compare import COUNTRY_SETS, IDENTITY_FIELDS, M2M_FIELDS, target_column, through_model
from .resources import ApplicationRowResource
from .validation import FORMULA_STARTS

CHUNK = 2000
MULTI_JOIN = "; "


def spreadsheet_safe(value):
    """Text that a spreadsheet would run as a formula (=, +, -, @) gets a leading quote (OWASP CSV injection);
    the import removes it again, so an export still imports back unchanged."""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value


def _date(value) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def export_columns(*, with_identity: bool) -> list[Column]:
    return template_columns(with_identity=with_identity, with_institution=True)


# What an export reads of each application (identity data comes from Identity, only where the user may see it).
_EXPORT_VALUES = (
    "id",
    "person_id",
    "institution__code",
    "case_reference",
    "received_on",
    "status",
    "decided_on",
    "sex_id",
    "gender_identity_id",
    "age_at_application",
    "age_at_recruitment",
    "migration_status_id",
    "education_level_id",
    "occupation_id",
    "mother_tongue_id",
    "residence_province_id",
    "residence_canton_id",
    "residence_district_id",
    "relationship_to_trafficker_id",
    "recruitment_province_id",
    "recruitment_canton_id",
    "recruitment_district_id",
    "recruitment_country",
)


def export_rows(*, user, with_identity: bool) -> Iterator[dict]:
    """One dictionary per visible application, keyed by column key, values as the import accepts them (codes,
    district codes, ISO country codes, dd/mm/yyyy). Reads in chunks, a fixed number of queries per chunk."""
    visible: QuerySet = access.applications_visible_to(user).order_by("id")
    identity_ids = (
        set(access.applications_with_identity_visible_to(user).values_list("id", flat=True)) if with_identity else set()
    )
    code_of = dict(Code.objects.values_list("id", "code"))
    ids = list(visible.values_list("id", flat=True))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        apps = list(visible.filter(id__in=chunk).values(*_EXPORT_VALUES))
        facts = _facts_of(chunk, code_of)
        resolutions = _resolutions_of(chunk)
        identities = _identities_of([a["person_id"] for a in apps if a["id"] in identity_ids])
        for app in apps:
            row = _row(app, code_of, facts[app["id"]], resolutions.get(app["id"]))
            if with_identity:
                identity = identities.get(app["person_id"]) if app["id"] in identity_ids else None
                for key in IDENTITY_FIELDS:
                    value = identity.get(key) if identity else ""
                    row[key] = _date(value) if key == "birth_date" else (value or "")
            yield {key: spreadsheet_safe(value) for key, value in row.items()}


def _facts_of(chunk: list[int], code_of: dict) -> dict[int, dict[str, list]]:
    """The multi-valued facts and country sets of the applications ``chunk``: {application id: {name: values}}."""
    facts: dict[int, dict[str, list]] = {app_id: {} for app_id in chunk}
    for name in M2M_FIELDS:
        links = through_model(name)._default_manager.filter(application_id__in=chunk)
        for app_id, value in links.values_list("application_id", target_column(name)):
            facts[app_id].setdefault(name, []).append(
                code_of.get(value, value) if name != "exploitation_districts" else value
            )
    for name, model in COUNTRY_SETS.items():
        countries = model._default_manager.filter(application_id__in=chunk)
        for app_id, value in countries.values_list("application_id", "country"):
            facts[app_id].setdefault(name, []).append(value)
    return facts


def _resolutions_of(chunk: list[int]) -> dict[int, Any]:
    """The resolution in force of each decided application, so an export imports back unchanged."""
    return {
        d["application_id"]: d
        for d in Decision.objects.filter(application_id__in=chunk, superseded_by__isnull=True)
        .order_by("recorded_at", "id")
        .values("application_id", "resolution_number", "votes_in_favour", "votes_against", "abstentions", "reasons")
    }


def _identities_of(person_ids: list[int]) -> dict[int, dict]:
    if not person_ids:
        return {}
    rows = Identity.objects.filter(person_id__in=person_ids).values("person_id", *IDENTITY_FIELDS)
    return {i["person_id"]: i for i in rows}


_CODED = ("sex", "gender_identity", "migration_status", "education_level", "occupation", "relationship_to_trafficker")


def _row(app: dict, code_of: dict, facts: dict[str, list], resolution: Any) -> dict:
    """One application's columns, identity left out."""
    row = {
        "institution": app["institution__code"],
        "case_reference": app["case_reference"],
        "received_on": _date(app["received_on"]),
        "status": app["status"],
        "decided_on": _date(app["decided_on"]),
        "age_at_application": app["age_at_application"] if app["age_at_application"] is not None else "",
        "age_at_recruitment": app["age_at_recruitment"] if app["age_at_recruitment"] is not None else "",
        "mother_tongue": app["mother_tongue_id"] or "",
        "residence_province": app["residence_province_id"] or "",
        "residence_canton": app["residence_canton_id"] or "",
        "residence_district": app["residence_district_id"] or "",
        "recruitment_province": app["recruitment_province_id"] or "",
        "recruitment_canton": app["recruitment_canton_id"] or "",
        "recruitment_district": app["recruitment_district_id"] or "",
        "recruitment_country": app["recruitment_country"] or "",
    }
    if resolution:
        row |= {
            "resolution_number": resolution["resolution_number"],
            "votes_in_favour": resolution["votes_in_favour"],
            "votes_against": resolution["votes_against"],
            "abstentions": resolution["abstentions"],
            "decision_reasons": resolution["reasons"],
        }
    for key in _CODED:
        row[key] = code_of.get(app[f"{key}_id"], "")
    for name in (*M2M_FIELDS, *COUNTRY_SETS):
        row[name] = MULTI_JOIN.join(sorted(str(v) for v in facts.get(name, [])))
    return row


def export_csv(*, user, with_identity: bool) -> Iterator[str]:
    """CSV lines (UTF-8 with BOM, comma separated): streamed, so a large export does not sit in memory."""
    columns = export_columns(with_identity=with_identity)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.es for c in columns])
    yield "\ufeff" + buffer.getvalue()
    for row in export_rows(user=user, with_identity=with_identity):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([row.get(c.key, "") for c in columns])
        yield buffer.getvalue()


def export_xlsx(*, user, with_identity: bool) -> bytes:
    """An XLSX workbook in the template's shape: headers and column order from the django-import-export resource,
    rows streamed through openpyxl's write-only mode, so a large export does not build the sheet in memory."""
    from openpyxl import Workbook

    resource = ApplicationRowResource(export_columns(with_identity=with_identity))
    keys = resource.get_export_order()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("solicitudes")
    sheet.append(resource.get_export_headers())
    for row in export_rows(user=user, with_identity=with_identity):
        sheet.append([row.get(key, "") for key in keys])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_count(*, user) -> int:
    return access.applications_visible_to(user).count()


def identity_document_types() -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in Identity.DocumentType.choices]
