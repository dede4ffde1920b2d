"""A small, known data set for the report tests: a few large cells and several deliberately small ones
(1 to k-1 people), written through the ORM and then turned into indicator tables by the real recompute.

The question the issue asks an analyst to answer ("how many accredited victims in 2024 were girls of
Nicaraguan nationality recruited through social networks?") has the answer GIRLS_NI_SOCIAL_2024 here."""

from __future__ import annotations

import datetime as dt
import itertools

from records import deadlines
from records.models import (
    Application,
    ApplicationExploitationCountry,
    ApplicationNationality,
    Code,
    CodeList,
    Decision,
    District,
    Person,
    Status,
)

K = 5
DECIDED = (Status.ACCREDITED, Status.NOT_ACCREDITED)
GIRLS_NI_SOCIAL_2024 = 9

# (year, how many, status, sex, age, nationality, recruitment method, form, residence district, country exploited)
GROUPS = [
    (2023, 20, Status.ACCREDITED, "F", 30, "CR", "FAMILY", "SEXUAL", "10101", "CR"),
    (2023, 8, Status.ACCREDITED, "M", 40, "NI", "WORK", "LABOUR", "20101", "CR"),
    (2024, GIRLS_NI_SOCIAL_2024, Status.ACCREDITED, "F", 15, "NI", "SOCIAL_NETWORK", "SEXUAL", "10101", "CR"),
    (2024, 3, Status.ACCREDITED, "M", 20, "CR", "FRIENDS", "LABOUR", "20101", "PA"),  # small
    (2024, 6, Status.ACCREDITED, "F", 28, "CR", "FAMILY", "SEXUAL", "10102", "CR"),
    (2024, 2, Status.NOT_ACCREDITED, "F", 19, "VE", "ONLINE_AD", "SEXUAL", "30101", "CR"),  # small
    (2024, 4, Status.SUBMITTED, "M", 36, "NI", "WORK", "LABOUR", "20101", "CR"),  # small, pending
    (2025, 15, Status.ACCREDITED, "F", 22, "CO", "ONLINE_AD", "SEXUAL", "10101", "CR"),
    (2025, 1, Status.ACCREDITED, "F", 65, "PA", "FAMILY", "SERVITUDE", "70101", "PA"),  # a single person
]


def _code(list_name: str, code: str) -> Code:
    return Code.objects.get(list=list_name, code=code)


def seed_report_data(cast) -> dict:
    """Write GROUPS as applications of cast.institution_a and recompute the indicator tables."""
    from indicators import services as indicator_services

    institution = cast.institution_a
    counter = itertools.count(1)
    created = 0
    for year, n, status, sex, age, nationality, method, form, district, country in GROUPS:
        for _ in range(n):
            i = next(counter)
            received = dt.date(year, 3, 1) + dt.timedelta(days=i % 200)
            person = Person.objects.create(institution=institution, person_key=f"report-test-{i:05d}")
            application = Application.all_objects.create(
                institution=institution,
                case_reference=f"RPT-{i:05d}",
                person=person,
                received_on=received,
                status=status,
                submitted_at=dt.datetime(year, received.month, received.day, 12, tzinfo=dt.UTC),
                due_on=deadlines.due_on(received),
                decided_on=(received + dt.timedelta(days=5 + i % 9)) if status in DECIDED else None,
                age_at_application=age,
                age_at_recruitment=age,
                sex=_code(CodeList.SEX, sex),
                residence_district=District.objects.get(code=district),
                relationship_to_trafficker=None,
            )
            application.exploitation_forms.add(_code(CodeList.EXPLOITATION_FORM, form))
            application.recruitment_methods.add(_code(CodeList.RECRUITMENT_METHOD, method))
            application.means.add(_code(CodeList.MEANS, "DECEPTION"))
            application.control_methods.add(Code.objects.filter(list=CodeList.CONTROL_METHOD).first())
            application.recruitment_district = District.objects.get(code=district)
            application.save(update_fields=["recruitment_district"])
            ApplicationNationality.objects.create(application=application, country=nationality)
            ApplicationExploitationCountry.objects.create(application=application, country=country)
            if application.decided_on:
                Decision.objects.create(
                    application=application,
                    resolution_number=f"ERI-RPT-{i:05d}",
                    resolution_date=application.decided_on,
                    votes_in_favour=3,
                    votes_against=0,
                    outcome=status,
                    reasons="Synthetic test decision.",
                    recorded_by=cast.coordinator_a,
                )
            created += 1
    run = indicator_services.recompute_full(trigger="test")
    assert run.outcome == "success", run.error
    reset_report_caches()
    return {"applications": created}


# The shared data set has five nationalities: these make nationality a long list with small counts (for the
# top-N tests: "Otros" then holds rows, hidden ones among them). Accredited women of 30, in 2024.
MORE_NATIONALITIES = {"DO": 8, "GT": 7, "HN": 6, "CU": 4, "SV": 3, "MX": 2, "US": 1}


def seed_more_nationalities(cast) -> None:
    """Add MORE_NATIONALITIES to the data of ``seed_report_data`` (copying one of its 2024 applications' dates and
    place) and recompute."""
    from indicators import services as indicator_services

    template = Application.all_objects.filter(status=Status.ACCREDITED, received_on__year=2024, age_at_application=28)
    model = template.select_related("sex", "residence_district").first()
    for n, (country, how_many) in enumerate(MORE_NATIONALITIES.items()):
        for i in range(how_many):
            reference = f"TOPN-{n}-{i}"
            person = Person.objects.create(institution=model.institution, person_key=f"topn-{reference}")
            application = Application.all_objects.create(
                institution=model.institution,
                case_reference=reference,
                person=person,
                received_on=model.received_on,
                status=Status.ACCREDITED,
                submitted_at=model.submitted_at,
                due_on=model.due_on,
                decided_on=model.decided_on,
                age_at_application=30,
                age_at_recruitment=30,
                sex=model.sex,
                residence_district=model.residence_district,
                recruitment_district=model.residence_district,
            )
            ApplicationNationality.objects.create(application=application, country=country)
            Decision.objects.create(
                application=application,
                resolution_number=f"ERI-{reference}",
                resolution_date=model.decided_on,
                votes_in_favour=3,
                votes_against=0,
                outcome=Status.ACCREDITED,
                reasons="Synthetic test decision.",
                recorded_by=cast.coordinator_a,
            )
    run = indicator_services.recompute_full(trigger="test")
    assert run.outcome == "success", run.error
    reset_report_caches()


def reset_report_caches() -> None:
    """Forget cached reports and the remembered indicator version: each test has its own data."""
    from django.core.cache import cache

    from indicators import catalogue

    cache.clear()
    catalogue.caching._version_seen = (0.0, None)
