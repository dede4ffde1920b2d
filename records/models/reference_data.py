"""Code lists and geography: the reference data every case fact points to (codes with their Spanish and English
labels, provinces, cantons and districts, languages) and the population figures the rates divide by. Loaded
from records/fixtures and edited by admins; no identity data here."""

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


def _localised(obj, es: str, en: str) -> str:
    return getattr(obj, en) if (get_language() or "es").startswith("en") and getattr(obj, en) else getattr(obj, es)


class CodeList(models.TextChoices):
    """The controlled vocabularies of a case. The lists are fixed by the schema (each feeds one field); their
    codes are data that an admin extends, relabels or retires."""

    EXPLOITATION_FORM = "exploitation_form", _("Form of exploitation")
    SEXUAL_EXPLOITATION_TYPE = "sexual_exploitation_type", _("Type of sexual exploitation")
    LABOUR_SECTOR = "labour_sector", _("Labour sector")
    MEANS = "means", _("Means")
    ACT = "act", _("Act")
    RECRUITMENT_METHOD = "recruitment_method", _("Recruitment method")
    CONTROL_METHOD = "control_method", _("Method of control")
    RELATIONSHIP_TO_TRAFFICKER = "relationship_to_trafficker", _("Relationship to the trafficker")
    SEX = "sex", _("Sex")
    GENDER_IDENTITY = "gender_identity", _("Gender identity")
    MIGRATION_STATUS = "migration_status", _("Migration status")
    EDUCATION_LEVEL = "education_level", _("Education level")
    OCCUPATION = "occupation", _("Occupation")
    APPLICATION_STATUS = "application_status", _("Application status")
    AGE_GROUP = "age_group", _("Age group")


class Code(models.Model):
    """One value of a code list, with its crosswalks to ICCS and HTCDS for international reporting.
    A retired code (``active=False``) is no longer offered in forms but stays valid on old records."""

    list = models.CharField(_("code list"), max_length=40, choices=CodeList.choices, db_index=True)
    code = models.CharField(_("code"), max_length=40)
    label_es = models.CharField(_("label (Spanish)"), max_length=200)
    label_en = models.CharField(_("label (English)"), max_length=200)
    iccs = models.CharField(_("ICCS code"), max_length=20, blank=True)
    htcds = models.CharField(_("HTCDS code"), max_length=60, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    sort_order = models.PositiveIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)
    # "No registrado": the list's way of saying the value is unknown. The indicators count it as the blank
    # ("not recorded", one row in every table) and the data-quality page as missing, never as complete.
    means_not_recorded = models.BooleanField(
        _("means 'not recorded'"),
        default=False,
        help_text=_("Counted as not recorded in the indicators and as missing on the data-quality page."),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["list", "sort_order", "code"]
        constraints = [models.UniqueConstraint(fields=["list", "code"], name="code_unique_in_list")]
        verbose_name = _("code")
        verbose_name_plural = _("codes")

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return _localised(self, "label_es", "label_en")


class Province(models.Model):
    """A first-level division (Costa Rica: 7 provinces, codes 1-7)."""

    code = models.CharField(_("code"), max_length=10, primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    iso_3166_2 = models.CharField(_("ISO 3166-2"), max_length=10, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("province")
        verbose_name_plural = _("provinces")

    def __str__(self) -> str:
        return self.name


class Canton(models.Model):
    """A second-level division (Costa Rica: 84 cantons, 3-digit official codes)."""

    code = models.CharField(_("code"), max_length=10, primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="cantons")

    class Meta:
        ordering = ["code"]
        verbose_name = _("canton")
        verbose_name_plural = _("cantons")

    def __str__(self) -> str:
        return self.name


class District(models.Model):
    """A third-level division (Costa Rica: 492 districts, 5-digit official codes)."""

    code = models.CharField(_("code"), max_length=10, primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    canton = models.ForeignKey(Canton, on_delete=models.PROTECT, related_name="districts")

    class Meta:
        ordering = ["code"]
        verbose_name = _("district")
        verbose_name_plural = _("districts")

    def __str__(self) -> str:
        return f"{self.name} ({self.canton.name})"


class Language(models.Model):
    """A mother tongue, by its ISO 639-3 code."""

    code = models.CharField(_("ISO 639-3 code"), max_length=3, primary_key=True)
    iso639_1 = models.CharField(_("ISO 639-1 code"), max_length=2, blank=True)
    name_en = models.CharField(_("name (English)"), max_length=100)
    name_es = models.CharField(_("name (Spanish)"), max_length=100)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name_es"]
        verbose_name = _("language")
        verbose_name_plural = _("languages")

    def __str__(self) -> str:
        return _localised(self, "name_es", "name_en")


class Population(models.Model):
    """Resident population per year and sex, the denominator of SDG 16.2.2 (victims per 100,000).
    Entered by an admin from the national statistics office's estimates."""

    year = models.PositiveSmallIntegerField(_("year"))
    sex = models.ForeignKey(Code, on_delete=models.PROTECT, limit_choices_to={"list": CodeList.SEX}, related_name="+")
    age_group = models.ForeignKey(
        Code, on_delete=models.PROTECT, limit_choices_to={"list": CodeList.AGE_GROUP}, related_name="+"
    )
    population = models.PositiveIntegerField(_("population"))
    source = models.CharField(_("source"), max_length=200, blank=True)

    class Meta:
        ordering = ["year", "sex", "age_group"]
        constraints = [models.UniqueConstraint(fields=["year", "sex", "age_group"], name="population_unique_cell")]
        verbose_name = _("population")
        verbose_name_plural = _("population")
