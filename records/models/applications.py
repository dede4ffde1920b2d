"""People, identities, applications for accreditation of victim status, ERI decisions and the workflow's events.

Identity data (names, document, birth date, contact, narrative) lives in ``Identity`` and
``Application.narrative`` only; everything else here is profile and case facts, the material of statistics.
Writes go through ``records.services``; reads that depend on who asks go through ``accounts.access``.
"""

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from ..facts import MAX_AGE
from ..scopes import ScopedApplicationManager, ScopedHistoricalRecords
from .reference_data import Canton, Code, CodeList, District, Language, Province


class Person(models.Model):
    """A person as registered by one institution. Two institutions that refer the same person hold two Person
    rows with the same ``person_key`` (an HMAC of the normalised identity document), so coordinators see the
    possible duplicate without either institution seeing the other's data."""

    institution = models.ForeignKey("accounts.Institution", on_delete=models.PROTECT, related_name="people")
    person_key = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    _history_user: Any  # set by the services before a save: simple-history records it as the author
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")

    def __str__(self) -> str:
        # Never the name: str() ends up in logs, admin lists and error pages.
        return _("Person %(id)s") % {"id": self.pk}


class Identity(models.Model):
    """Identity data of a person: visible only to the owning institution, institutions granted one of the
    person's cases, and coordinators; every view is logged. Never copied into analytics, logs or URLs."""

    class DocumentType(models.TextChoices):
        NATIONAL_ID = "national_id", _("National identity card")
        DIMEX = "dimex", _("Foreigner identity document (DIMEX)")
        PASSPORT = "passport", _("Passport")
        REFUGEE_ID = "refugee_id", _("Refugee or asylum-seeker document")
        OTHER = "other", _("Other document")
        NONE = "none", _("No document")

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="identity")
    given_names = models.CharField(_("given names"), max_length=150, blank=True)
    family_names = models.CharField(_("family names"), max_length=150, blank=True)
    document_type = models.CharField(
        _("identity document type"), max_length=20, choices=DocumentType.choices, default=DocumentType.NONE
    )
    document_number = models.CharField(_("identity document number"), max_length=50, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    email = models.EmailField(_("email"), blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    _history_user: Any  # set by the services before a save: simple-history records it as the author
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("identity data")
        verbose_name_plural = _("identity data")

    def __str__(self) -> str:
        return _("Identity of person %(id)s") % {"id": self.person_id}


def _codes(list_name: str) -> dict:
    return {"list": list_name}


class Status(models.TextChoices):
    DRAFT = "DRAFT", _("Draft")
    SUBMITTED = "SUBMITTED", _("Submitted")
    UNDER_REVIEW = "UNDER_REVIEW", _("Under ERI review")
    INFO_REQUESTED = "INFO_REQUESTED", _("More information requested")
    ACCREDITED = "ACCREDITED", _("Accredited")
    NOT_ACCREDITED = "NOT_ACCREDITED", _("Not accredited")
    WITHDRAWN = "WITHDRAWN", _("Withdrawn")


DECIDED_STATUSES = frozenset({Status.ACCREDITED, Status.NOT_ACCREDITED})
CLOSED_STATUSES = DECIDED_STATUSES | {Status.WITHDRAWN}


# Foreign keys of an application to reference data (code lists, geography, languages) and to its creator. No
# query looks applications up by these, so they carry no index: each index is one more B-tree to update for
# every application written (imports write 100,000 at a time). Deleting a code is protected all the same.
_REFERENCE_FKS = [
    "relationship_to_trafficker",
    "recruitment_province",
    "recruitment_canton",
    "recruitment_district",
    "sex",
    "gender_identity",
    "migration_status",
    "education_level",
    "occupation",
    "residence_province",
    "residence_canton",
    "residence_district",
    "mother_tongue",
    "created_by",
]


def _place_level(model, label):
    """A coarser level of a place (province or canton), kept when the place was given only at that level and
    filled from the district otherwise (records.validation.place_levels_fill keeps the levels consistent)."""
    return models.ForeignKey(
        model, null=True, blank=True, on_delete=models.PROTECT, db_index=False, related_name="+", verbose_name=label
    )


class Application(models.Model):
    """An application for accreditation of victim status (solicitud de acreditación), submitted by one
    institution for one person, decided by the ERI within the legal deadline. Profile fields describe the person
    at the application date. ``version`` refuses a save over somebody else's newer edit."""

    institution = models.ForeignKey("accounts.Institution", on_delete=models.PROTECT, related_name="applications")
    case_reference = models.CharField(_("institution's case reference"), max_length=60)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="applications")
    received_on = models.DateField(_("received on"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    due_on = models.DateField(_("decision due on"), null=True, blank=True)

    # Facts of the case.
    exploitation_forms = models.ManyToManyField(
        Code,
        blank=True,
        related_name="+",
        limit_choices_to=_codes(CodeList.EXPLOITATION_FORM),
        verbose_name=_("forms of exploitation"),
    )
    sexual_exploitation_types = models.ManyToManyField(
        Code,
        blank=True,
        related_name="+",
        limit_choices_to=_codes(CodeList.SEXUAL_EXPLOITATION_TYPE),
        verbose_name=_("types of sexual exploitation"),
    )
    labour_sectors = models.ManyToManyField(
        Code,
        blank=True,
        related_name="+",
        limit_choices_to=_codes(CodeList.LABOUR_SECTOR),
        verbose_name=_("labour sectors"),
    )
    means = models.ManyToManyField(
        Code, blank=True, related_name="+", limit_choices_to=_codes(CodeList.MEANS), verbose_name=_("means")
    )
    acts = models.ManyToManyField(
        Code, blank=True, related_name="+", limit_choices_to=_codes(CodeList.ACT), verbose_name=_("acts")
    )
    recruitment_methods = models.ManyToManyField(
        Code,
        blank=True,
        related_name="+",
        limit_choices_to=_codes(CodeList.RECRUITMENT_METHOD),
        verbose_name=_("recruitment methods"),
    )
    control_methods = models.ManyToManyField(
        Code,
        blank=True,
        related_name="+",
        limit_choices_to=_codes(CodeList.CONTROL_METHOD),
        verbose_name=_("methods of control"),
    )
    relationship_to_trafficker = models.ForeignKey(
        Code,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
        related_name="+",
        limit_choices_to=_codes(CodeList.RELATIONSHIP_TO_TRAFFICKER),
        verbose_name=_("relationship to the trafficker"),
    )
    recruitment_province = _place_level(Province, _("province of recruitment"))
    recruitment_canton = _place_level(Canton, _("canton of recruitment"))
    recruitment_district = models.ForeignKey(
        District,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
        related_name="+",
        verbose_name=_("district of recruitment"),
    )
    recruitment_country = CountryField(_("country of recruitment"), blank=True)
    exploitation_districts = models.ManyToManyField(
        District, blank=True, related_name="+", verbose_name=_("districts of exploitation")
    )

    # Profile of the person at the application date.
    birth_date_known = models.BooleanField(default=False, editable=False)
    age_at_application = models.PositiveSmallIntegerField(_("age at application"), null=True, blank=True)
    age_at_recruitment = models.PositiveSmallIntegerField(_("age at recruitment"), null=True, blank=True)
    sex = models.ForeignKey(
        Code,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
        related_name="+",
        limit_choices_to=_codes(CodeList.SEX),
        verbose_name=_("sex"),
    )
    gender_identity = models.ForeignKey(
        Code,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
        related_name="+",
        limit_choices_to=_codes(CodeList.GENDER_IDENTITY),
        verbose_name=_("gender identity"),
    )
    migration_status = models.ForeignKey(
        Code,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
        related_name="+",
        limit_choices_to=_codes(CodeList.MIGRATION_STATUS),
        verbose_name=_("migration status"),
    )
    education_level = models.ForeignKey(
        Code,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
        related_name="+",
        limit_choices_to=_codes(CodeList.EDUCATION_LEVEL),
        verbose_name=_("education level"),
    )
    occupation = models.ForeignKey(
        Code,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
        related_name="+",
        limit_choices_to=_codes(CodeList.OCCUPATION),
        verbose_name=_("occupation"),
    )
    residence_province = _place_level(Province, _("province of residence"))
    residence_canton = _place_level(Canton, _("canton of residence"))
    residence_district = models.ForeignKey(
        District,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
        related_name="+",
        verbose_name=_("district of residence"),
    )
    mother_tongue = models.ForeignKey(
        Language,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("mother tongue"),
    )

    # Identity data: a free-text account of the case. Never leaves the case page.
    narrative = models.TextField(_("narrative"), blank=True)

    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    _history_user: Any  # set by the services before a save: simple-history records it as the author
    history = ScopedHistoricalRecords(
        # The history of a case is read by its id only: no index on the other columns, which an import of
        # 100,000 applications would otherwise maintain 15 times per history row.
        no_db_index=[*_REFERENCE_FKS, "institution", "person"],
        m2m_fields=[
            exploitation_forms,
            sexual_exploitation_types,
            labour_sectors,
            means,
            acts,
            recruitment_methods,
            control_methods,
            exploitation_districts,
        ],
        excluded_fields=["updated_at"],
    )

    # Scoped: raises outside accounts.access's visibility scope (records/scopes.py); the first manager is the
    # default one, so reverse relations and Django's own lookups are scoped too.
    objects = ScopedApplicationManager()
    all_objects = models.Manager()  # noqa: DJ012 - a second manager (unscoped: records.scopes.ALL_OBJECTS_ALLOWED)

    class Meta:
        ordering = ["-received_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "case_reference"], name="application_unique_reference"),
            models.CheckConstraint(
                condition=models.Q(age_at_application__isnull=True) | models.Q(age_at_application__lte=MAX_AGE),
                name="application_age_range",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_on"]),
            models.Index(fields=["received_on"]),
            # The ERI queue: open applications by due date (stopped clocks last: ascending order puts NULLs last
            # in PostgreSQL). A partial index, so the queue reads its first page in index order instead of sorting
            # every open application of a large table.
            models.Index(
                fields=["due_on", "received_on", "id"],
                name="application_open_queue",
                condition=models.Q(status__in=["SUBMITTED", "UNDER_REVIEW", "INFO_REQUESTED"]),
            ),
        ]
        verbose_name = _("application")
        verbose_name_plural = _("applications")

    def __str__(self) -> str:
        return f"{self.institution.code} {self.case_reference}"

    @property
    def is_decided(self) -> bool:
        return self.status in DECIDED_STATUSES

    @property
    def is_editable(self) -> bool:
        """Officers edit until the ERI decides; a decision is changed only by a new resolution."""
        return self.status in {Status.DRAFT, Status.INFO_REQUESTED}


class ApplicationNationality(models.Model):
    """One nationality of the person at the application date (a person may hold several)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="nationalities")
    country = CountryField(_("nationality"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["application", "country"], name="nationality_unique")]
        verbose_name = _("nationality")
        verbose_name_plural = _("nationalities")


class ApplicationExploitationCountry(models.Model):
    """A country where the person was exploited (several are possible; Costa Rica included)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="exploitation_countries")
    country = CountryField(_("country of exploitation"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["application", "country"], name="exploitation_country_unique")]
        verbose_name = _("country of exploitation")
        verbose_name_plural = _("countries of exploitation")


class Decision(models.Model):
    """An ERI reasoned technical resolution (resolución técnica razonada), adopted by simple majority. A decision
    is final: changing it takes a new resolution of kind appeal or correction that supersedes the earlier one."""

    class Outcome(models.TextChoices):
        ACCREDITED = "ACCREDITED", _("Accredited as victim of trafficking")
        NOT_ACCREDITED = "NOT_ACCREDITED", _("Not accredited")

    class Kind(models.TextChoices):
        ORIGINAL = "original", _("Original resolution")
        APPEAL = "appeal", _("Resolution of an appeal")
        CORRECTION = "correction", _("Correction")

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="decisions")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.ORIGINAL)
    supersedes = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
        verbose_name=_("supersedes"),
    )
    resolution_number = models.CharField(_("resolution number"), max_length=60)
    resolution_date = models.DateField(_("resolution date"))
    votes_in_favour = models.PositiveSmallIntegerField(_("votes in favour"))
    votes_against = models.PositiveSmallIntegerField(_("votes against"))
    abstentions = models.PositiveSmallIntegerField(_("abstentions"), default=0)
    outcome = models.CharField(_("decision"), max_length=20, choices=Outcome.choices)
    reasons = models.TextField(_("reasons"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    _history_user: Any  # set by the services before a save: simple-history records it as the author
    history = HistoricalRecords()

    class Meta:
        ordering = ["application", "recorded_at"]
        constraints = [
            models.UniqueConstraint(fields=["resolution_number"], name="decision_unique_resolution_number"),
        ]
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")

    def __str__(self) -> str:
        return self.resolution_number


class ApplicationEvent(models.Model):
    """One step of the workflow (who moved the application from which status to which, and why). The clock of
    the legal deadline is computed from these rows."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Status.choices)
    at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        ordering = ["application", "at", "id"]
        verbose_name = _("workflow event")
        verbose_name_plural = _("workflow events")


# Object permissions for sharing a case with another institution (django-guardian, direct foreign keys, which
# are indexed joins instead of the generic content-type tables). Each institution has a group; granting
# ``records.view_application`` to that group lets the institution's officers see the case.
class ApplicationUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Application, on_delete=models.CASCADE)


class ApplicationGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Application, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = _("case shared with an institution")
        verbose_name_plural = _("cases shared with institutions")
