"""Forms of the case records: what an officer fills in (grouped as person, identity, facts, places, profile),
and what the ERI records (decisions, information requests). They validate; ``records.services`` writes.

The checks of an application's values are records.validation's (the one validator the import, the API and the
services call too); each message is shown next to the field it concerns. The decision form checks that the
resolution is not dated in the future nor before receipt, and that the vote is a majority for the outcome.
"""

from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from accounts.models import Institution
from conatt_portal.forms import AccessibleFormMixin, IsoDateInput, choice_field, model_choice_field

from . import facts, services, validation
from .models import Application, Canton, Code, CodeList, Decision, District, Identity, Language, Province

MAX_AGE = facts.MAX_AGE
# Shown first in country lists: the nationalities most often seen by Costa Rica's institutions.
REGIONAL_COUNTRIES = ("CR", "NI", "VE", "CO", "PA", "HN", "SV", "GT", "DO", "CU", "CN", "HT", "MX", "US")


def country_choices() -> list:
    names = dict(countries)
    regional = [(c, names[c]) for c in REGIONAL_COUNTRIES if c in names]
    others = [(c, n) for c, n in countries if c not in REGIONAL_COUNTRIES]
    return [(_("Most frequent"), regional), (_("All countries"), others)]


def canton_choices(province: str | None) -> list:
    qs = Canton.objects.order_by("code")
    if province:
        qs = qs.filter(province_id=province)
    return [("", "---------")] + [(c.code, c.name) for c in qs]


def district_choices(*, canton: str | None = None, province: str | None = None, blank: bool = True) -> list:
    """Districts of the chosen canton, or grouped by canton (of the province, or of the country)."""
    qs = District.objects.select_related("canton").order_by("canton__code", "code")
    head = [("", "---------")] if blank else []
    if canton:
        return head + [(d.code, d.name) for d in qs.filter(canton_id=canton)]
    if province:
        qs = qs.filter(canton__province_id=province)
    groups: dict[str, list] = {}
    for d in qs:
        groups.setdefault(d.canton.name, []).append((d.code, d.name))
    return head + list(groups.items())


def _codes(list_name: str, current=()):
    """Active codes of a list, plus the retired ones already on this record (they stay valid there)."""
    return Code.objects.filter(Q(list=list_name) & (Q(active=True) | Q(pk__in=list(current))))


class _CodeMultiple(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple


class ApplicationForm(AccessibleFormMixin, forms.Form):
    """Registration or edit of an application, with the person's identity data and profile."""

    FIELDSETS = (
        (
            "case",
            _("Application"),
            ("case_reference", "received_on"),
        ),
        (
            "identity",
            _("Identity of the person (confidential)"),
            (
                "given_names",
                "family_names",
                "document_type",
                "document_number",
                "birth_date",
                "phone",
                "email",
                "address",
            ),
        ),
        (
            "facts",
            _("Facts of the case"),
            (
                "exploitation_forms",
                "sexual_exploitation_types",
                "labour_sectors",
                "means",
                "acts",
                "recruitment_methods",
                "control_methods",
                "relationship_to_trafficker",
                "narrative",
            ),
        ),
        (
            "places",
            _("Places"),
            (
                "recruitment_province",
                "recruitment_canton",
                "recruitment_district",
                "recruitment_country",
                "exploitation_districts",
                "exploitation_countries",
            ),
        ),
        (
            "profile",
            _("Profile of the person at the application date"),
            (
                "age_at_application",
                "age_at_recruitment",
                "sex",
                "gender_identity",
                "nationalities",
                "migration_status",
                "education_level",
                "occupation",
                "residence_province",
                "residence_canton",
                "residence_district",
                "mother_tongue",
            ),
        ),
    )

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    case_reference = forms.CharField(
        label=_("Institution's case reference"),
        max_length=60,
        help_text=_("Your institution's own file number for this case."),
    )
    received_on = forms.DateField(label=_("Date the application was received"), widget=IsoDateInput())

    given_names = forms.CharField(label=_("Given names"), max_length=150, required=False)
    family_names = forms.CharField(label=_("Family names"), max_length=150, required=False)
    document_type = forms.ChoiceField(
        label=_("Identity document"), choices=Identity.DocumentType.choices, initial=Identity.DocumentType.NONE
    )
    document_number = forms.CharField(
        label=_("Document number"),
        max_length=50,
        required=False,
        help_text=_("Used, in coded form, to recognise the same person referred by another institution."),
    )
    birth_date = forms.DateField(label=_("Birth date"), required=False, widget=IsoDateInput())
    phone = forms.CharField(label=_("Phone"), max_length=50, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)

    exploitation_forms = _CodeMultiple(label=_("Forms of exploitation"), queryset=Code.objects.none())
    sexual_exploitation_types = _CodeMultiple(
        label=_("Types of sexual exploitation"), queryset=Code.objects.none(), required=False
    )
    labour_sectors = _CodeMultiple(label=_("Labour sectors"), queryset=Code.objects.none(), required=False)
    means = _CodeMultiple(label=_("Means"), queryset=Code.objects.none(), required=False)
    acts = _CodeMultiple(label=_("Acts"), queryset=Code.objects.none(), required=False)
    recruitment_methods = _CodeMultiple(label=_("Recruitment methods"), queryset=Code.objects.none(), required=False)
    control_methods = _CodeMultiple(label=_("Methods of control"), queryset=Code.objects.none(), required=False)
    relationship_to_trafficker = forms.ModelChoiceField(
        label=_("Relationship to the trafficker"), queryset=Code.objects.none(), required=False
    )
    narrative = forms.CharField(
        label=_("Account of the case (confidential)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Identity data: shown only to those entitled, never in reports."),
    )

    recruitment_province = forms.ModelChoiceField(
        label=_("Province of recruitment"), queryset=Province.objects.all(), required=False
    )
    recruitment_canton = forms.ModelChoiceField(
        label=_("Canton of recruitment"), queryset=Canton.objects.all(), required=False
    )
    recruitment_district = forms.ModelChoiceField(
        label=_("District of recruitment"), queryset=District.objects.all(), required=False
    )
    recruitment_country = forms.ChoiceField(label=_("Country of recruitment (if abroad)"), required=False, choices=())
    exploitation_districts = forms.ModelMultipleChoiceField(
        label=_("Districts of exploitation (Costa Rica)"),
        queryset=District.objects.all(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("Hold Ctrl (or Cmd) to choose several."),
    )
    exploitation_countries = forms.MultipleChoiceField(
        label=_("Countries of exploitation"),
        required=False,
        choices=(),
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("Include Costa Rica if the person was exploited here."),
    )

    age_at_application = forms.IntegerField(
        label=_("Age at application"),
        required=False,
        help_text=_("Only when the birth date is unknown; otherwise it is computed."),
    )
    age_at_recruitment = forms.IntegerField(label=_("Age at recruitment"), required=False)
    sex = forms.ModelChoiceField(label=_("Sex"), queryset=Code.objects.none())
    gender_identity = forms.ModelChoiceField(label=_("Gender identity"), queryset=Code.objects.none(), required=False)
    nationalities = forms.MultipleChoiceField(
        label=_("Nationalities"), choices=(), widget=forms.SelectMultiple(attrs={"size": 6})
    )
    migration_status = forms.ModelChoiceField(label=_("Migration status"), queryset=Code.objects.none(), required=False)
    education_level = forms.ModelChoiceField(label=_("Education level"), queryset=Code.objects.none(), required=False)
    occupation = forms.ModelChoiceField(label=_("Occupation"), queryset=Code.objects.none(), required=False)
    residence_province = forms.ModelChoiceField(
        label=_("Province of residence"), queryset=Province.objects.all(), required=False
    )
    residence_canton = forms.ModelChoiceField(
        label=_("Canton of residence"), queryset=Canton.objects.all(), required=False
    )
    residence_district = forms.ModelChoiceField(
        label=_("District of residence"), queryset=District.objects.all(), required=False
    )
    mother_tongue = forms.ModelChoiceField(label=_("Mother tongue"), queryset=Language.objects.none(), required=False)

    CODE_FIELDS = {
        "exploitation_forms": CodeList.EXPLOITATION_FORM,
        "sexual_exploitation_types": CodeList.SEXUAL_EXPLOITATION_TYPE,
        "labour_sectors": CodeList.LABOUR_SECTOR,
        "means": CodeList.MEANS,
        "acts": CodeList.ACT,
        "recruitment_methods": CodeList.RECRUITMENT_METHOD,
        "control_methods": CodeList.CONTROL_METHOD,
        "relationship_to_trafficker": CodeList.RELATIONSHIP_TO_TRAFFICKER,
        "sex": CodeList.SEX,
        "gender_identity": CodeList.GENDER_IDENTITY,
        "migration_status": CodeList.MIGRATION_STATUS,
        "education_level": CodeList.EDUCATION_LEVEL,
        "occupation": CodeList.OCCUPATION,
    }
    GEOGRAPHY = (
        ("recruitment_province", "recruitment_canton", "recruitment_district"),
        ("residence_province", "residence_canton", "residence_district"),
    )

    def __init__(self, *args, institution: Institution, application: Application | None = None, **kwargs):
        self.institution = institution
        self.application = application
        if application is not None and "initial" not in kwargs:
            kwargs["initial"] = initial_for(application)
        super().__init__(*args, **kwargs)
        current = self.initial
        for name, list_name in self.CODE_FIELDS.items():
            chosen = current.get(name) or []
            chosen = chosen if isinstance(chosen, list | tuple) else [chosen]
            model_choice_field(self, name).queryset = _codes(list_name, [getattr(c, "pk", c) for c in chosen if c])
        tongue = current.get("mother_tongue")
        model_choice_field(self, "mother_tongue").queryset = Language.objects.filter(
            Q(active=True) | Q(pk=tongue or "")
        )
        choices = country_choices()
        choice_field(self, "nationalities").choices = choices
        choice_field(self, "exploitation_countries").choices = choices
        choice_field(self, "recruitment_country").choices = [("", "---------")] + choices
        self.fields["exploitation_districts"].widget.choices = district_choices(blank=False)
        for name in ("exploitation_forms", "sexual_exploitation_types", "labour_sectors", "means", "acts"):
            self.fields[name].widget.attrs["class"] = "form-check-input"
        for name in ("recruitment_methods", "control_methods"):
            self.fields[name].widget.attrs["class"] = "form-check-input"
        self._narrow_geography()

    def _chosen(self, name: str) -> str:
        """The value of a geography select as submitted (bound form) or as initially set."""
        if self.is_bound:
            return (self.data.get(self.add_prefix(name)) or "").strip()
        value = self.initial.get(name)
        return str(getattr(value, "pk", value) or "")

    def _narrow_geography(self) -> None:
        """Canton and district choices narrow to the chosen province and canton: in the browser (records-geo.js)
        and on the server when the form is re-rendered, so the form works without JavaScript too."""
        for province_field, canton_field, district_field in self.GEOGRAPHY:
            province = self._chosen(province_field)
            canton = self._chosen(canton_field)
            if canton and province and not Canton.objects.filter(code=canton, province_id=province).exists():
                canton = ""  # the province changed: the old canton no longer applies
            self.fields[canton_field].widget.choices = canton_choices(province or None)
            self.fields[district_field].widget.choices = district_choices(canton=canton or None, province=province)
            self.fields[canton_field].widget.attrs.update(
                {"data-geo-cantons": province_field, "data-geo-target": district_field}
            )
            self.fields[province_field].widget.attrs.update({"data-geo-province": canton_field})

    # --- checks ---

    def clean_case_reference(self):
        value = self.cleaned_data["case_reference"].strip()
        exclude_pk = self.application.pk if self.application is not None else None
        if services.case_reference_taken(
            institution_id=self.institution.pk, case_reference=value, exclude_pk=exclude_pk
        ):
            raise forms.ValidationError(
                _("Your institution already has an application with this case reference."), code="duplicate"
            )
        return value

    def clean_document_number(self):
        return self.cleaned_data.get("document_number", "").strip()

    def clean(self):
        super().clean()
        data = self.cleaned_data
        for name, problems in validation.application_values_check(data).items():
            for problem in problems:
                self.add_error(
                    name if name in self.fields else None, forms.ValidationError(problem.message, code=problem.code)
                )
        received, birth = data.get("received_on"), data.get("birth_date")
        if received and birth and "birth_date" not in self.errors:
            # A known birth date decides the age at application.
            data["age_at_application"] = validation.age_on(birth, received)
        return data

    # --- values for the services ---

    def application_values(self) -> dict:
        d = self.cleaned_data
        values = {name: d.get(name) for name in facts.SCALAR_FIELDS}
        values["recruitment_country"] = d.get("recruitment_country") or ""
        values["narrative"] = d.get("narrative") or ""
        for name in facts.M2M_FIELDS:
            values[name] = list(d.get(name) or [])
        values["nationalities"] = list(d.get("nationalities") or [])
        values["exploitation_countries"] = list(d.get("exploitation_countries") or [])
        return values

    def identity_values(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in facts.IDENTITY_FIELDS}

    def fieldsets(self):
        """(id, legend, bound fields) for the template."""
        return [(key, legend, [self[name] for name in names]) for key, legend, names in self.FIELDSETS]


def initial_for(application: Application) -> dict:
    """The form's initial values from an application, its identity data and its relations."""
    initial = {name: getattr(application, name) for name in facts.SCALAR_FIELDS}
    for name in facts.M2M_FIELDS:
        initial[name] = list(getattr(application, name).all())
    initial["nationalities"] = list(application.nationalities.values_list("country", flat=True))
    initial["exploitation_countries"] = list(application.exploitation_countries.values_list("country", flat=True))
    initial["recruitment_country"] = str(application.recruitment_country or "")
    identity = Identity.objects.filter(person_id=application.person_id).first()
    if identity is not None:
        for name in facts.IDENTITY_FIELDS:
            initial[name] = getattr(identity, name)
    if application.birth_date_known:
        initial["age_at_application"] = None
    for place in facts.PLACES:
        province_field, canton_field, district_field = facts.place_fields(place)
        # The stored levels (a place may be only a province or a canton); the district's, for a row stored before
        # the levels were (the data migration fills them, this keeps any row it could not).
        district = getattr(application, district_field)
        canton = getattr(application, f"{canton_field}_id") or (district.canton_id if district else None)
        province = getattr(application, f"{province_field}_id") or (district.canton.province_id if district else None)
        initial[canton_field], initial[province_field] = canton, province
    initial["version"] = application.version
    return initial


class DecisionForm(AccessibleFormMixin, forms.Form):
    """An ERI resolution. For a decided application it is a new resolution (appeal or correction) that
    supersedes the one in force."""

    kind = forms.ChoiceField(
        label=_("Kind of resolution"),
        choices=[
            (Decision.Kind.APPEAL, Decision.Kind.APPEAL.label),
            (Decision.Kind.CORRECTION, Decision.Kind.CORRECTION.label),
        ],
    )
    resolution_number = forms.CharField(label=_("Resolution number"), max_length=60)
    resolution_date = forms.DateField(label=_("Resolution date"), widget=IsoDateInput())
    votes_in_favour = forms.IntegerField(
        label=_("Votes in favour of accrediting"), min_value=0, max_value=99, initial=0
    )
    votes_against = forms.IntegerField(label=_("Votes against accrediting"), min_value=0, max_value=99, initial=0)
    abstentions = forms.IntegerField(label=_("Abstentions"), min_value=0, max_value=99, initial=0)
    outcome = forms.ChoiceField(label=_("Decision"), choices=Decision.Outcome.choices, widget=forms.RadioSelect)
    reasons = forms.CharField(label=_("Reasons"), widget=forms.Textarea(attrs={"rows": 5}))

    def __init__(self, *args, application: Application, correction: bool = False, **kwargs):
        self.application = application
        self.correction = correction
        super().__init__(*args, **kwargs)
        if not correction:
            del self.fields["kind"]
        self.fields["outcome"].widget.attrs["class"] = "form-check-input"

    def clean_resolution_number(self):
        value = self.cleaned_data["resolution_number"].strip()
        if Decision.objects.filter(resolution_number=value).exists():
            raise forms.ValidationError(_("A resolution with this number is already recorded."), code="duplicate")
        return value

    def clean_resolution_date(self):
        value = self.cleaned_data["resolution_date"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("The resolution date cannot be in the future."), code="future")
        if value < self.application.received_on:
            raise forms.ValidationError(
                _("The resolution cannot be dated before the application was received (%(date)s).")
                % {"date": self.application.received_on.strftime("%d/%m/%Y")},
                code="before_receipt",
            )
        return value

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if {"outcome", "votes_in_favour", "votes_against"} <= data.keys():
            problem = services.vote_problem(
                outcome=data["outcome"], votes_in_favour=data["votes_in_favour"], votes_against=data["votes_against"]
            )
            if problem:
                self.add_error("votes_in_favour", problem)
        return data


class InformationRequestForm(AccessibleFormMixin, forms.Form):
    message = forms.CharField(
        label=_("What information does the ERI need?"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("The institution sees this message and answers by completing and resubmitting the application."),
    )


class WithdrawForm(AccessibleFormMixin, forms.Form):
    reason = forms.CharField(label=_("Reason for withdrawing"), widget=forms.Textarea(attrs={"rows": 3}))


class ShareForm(AccessibleFormMixin, forms.Form):
    institution = forms.ModelChoiceField(label=_("Institution"), queryset=Institution.objects.none())

    def __init__(self, *args, application: Application, **kwargs):
        super().__init__(*args, **kwargs)
        model_choice_field(self, "institution").queryset = Institution.objects.filter(active=True).exclude(
            pk=application.institution_id
        )
