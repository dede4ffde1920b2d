"""Serializers of the records API. They translate between JSON and the models; they hold no workflow rule
(those are in records.services) and decide no visibility (that is accounts.access). Identity data is only
serialized by the detail serializers, and only when the view says the reader is entitled."""

from typing import TYPE_CHECKING, cast

from django.utils.translation import gettext_lazy as _
from django_countries.serializer_fields import CountryField
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts import access
from accounts.models import Institution
from records.facts import IDENTITY_FIELDS
from records.models import (
    Application,
    Canton,
    Code,
    CodeList,
    Decision,
    District,
    Identity,
    Language,
    Person,
    Province,
)

# The mixin goes in front of a serializer; the type checker is told so, the runtime MRO stays as it was.
if TYPE_CHECKING:
    _SerializerBase = serializers.Serializer
else:
    _SerializerBase = object

# --- Reference data ------------------------------------------------------------------------------------------


class CodeSerializer(serializers.ModelSerializer):
    # DRF's metaclass takes declared fields off the class: a field named "label" does not replace Field.label,
    # though the stubs see an attribute of another type (here and below).
    label = serializers.CharField(  # type: ignore[assignment]
        read_only=True, help_text=_("Label in the language of the request.")
    )

    class Meta:
        model = Code
        fields = ["list", "code", "label", "label_es", "label_en", "iccs", "htcds", "active", "sort_order"]


class CodeListSerializer(serializers.Serializer):
    list = serializers.CharField(help_text=_("Name of the code list, used as ?list= on /codes/."))
    label = serializers.CharField()  # type: ignore[assignment]


class ProvinceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Province
        fields = ["code", "name", "iso_3166_2"]


class CantonSerializer(serializers.ModelSerializer):
    province = serializers.CharField(source="province_id", read_only=True)

    class Meta:
        model = Canton
        fields = ["code", "name", "province"]


class DistrictSerializer(serializers.ModelSerializer):
    canton = serializers.CharField(source="canton_id", read_only=True)
    province = serializers.CharField(source="canton.province_id", read_only=True)

    class Meta:
        model = District
        fields = ["code", "name", "canton", "province"]


class LanguageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Language
        fields = ["code", "iso639_1", "name_es", "name_en", "active"]


class CountrySerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("ISO 3166-1 alpha-2 code."))
    name = serializers.CharField()


# --- Records -------------------------------------------------------------------------------------------------


class CodeRelatedField(serializers.SlugRelatedField):
    """A code of one code list, written and read as its ``code``."""

    def __init__(self, code_list: str, **kwargs):
        kwargs.setdefault("queryset", Code.objects.filter(list=code_list))
        kwargs.setdefault("slug_field", "code")
        super().__init__(**kwargs)


def _place_level(model, label) -> serializers.SlugRelatedField:
    """A province or canton (by code): a place given only at that level is kept at that level."""
    return serializers.SlugRelatedField(
        slug_field="code", queryset=model.objects.all(), required=False, allow_null=True, help_text=label
    )


class DistrictRelatedField(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", District.objects.all())
        kwargs.setdefault("slug_field", "code")
        super().__init__(**kwargs)


def _codes(code_list: str, label) -> CodeRelatedField:
    return CodeRelatedField(code_list, many=True, required=False, help_text=label)


def _code(code_list: str, label) -> CodeRelatedField:
    return CodeRelatedField(code_list, required=False, allow_null=True, help_text=label)


class IsoCountryField(CountryField):
    """A country as django-countries reads it (ISO code or name). Input it cannot read is refused like an
    unknown country, without quoting it back: a superscript digit such as "²" passes its numeric-code test
    (``str.isdigit``) and then made ``int()`` raise, a 500."""

    default_error_messages = {"invalid_choice": _("Not a country: use its ISO 3166-1 alpha-2 code.")}

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except (TypeError, ValueError):
            self.fail("invalid_choice")


@extend_schema_field(
    {"type": "array", "items": {"type": "string", "description": "ISO 3166-1 alpha-2", "minLength": 2, "maxLength": 2}}
)
class CountryListField(serializers.ListField):
    """Several countries as ISO codes (the rows of ApplicationNationality / ApplicationExploitationCountry)."""

    child = IsoCountryField()

    def to_representation(self, data):
        return [str(row.country) for row in data.all()]


class _IdentityGated(_SerializerBase):
    """Leaves ``identity_field`` out of the output unless the view found the user entitled to identity data
    (``identity_allowed`` in the serializer's context, from accounts.access.can_see_identity)."""

    identity_field = ""

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context.get("identity_allowed", False):
            data.pop(self.identity_field, None)
        return data


class ApplicationSerializer(serializers.ModelSerializer):
    """An application without identity data: what lists return."""

    institution: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="code", read_only=True)
    person: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(read_only=True)
    exploitation_forms = _codes(CodeList.EXPLOITATION_FORM, _("Forms of exploitation (codes)."))
    sexual_exploitation_types = _codes(CodeList.SEXUAL_EXPLOITATION_TYPE, _("Types of sexual exploitation."))
    labour_sectors = _codes(CodeList.LABOUR_SECTOR, _("Labour sectors (codes)."))
    means = _codes(CodeList.MEANS, _("Means (codes)."))
    acts = _codes(CodeList.ACT, _("Acts (codes)."))
    recruitment_methods = _codes(CodeList.RECRUITMENT_METHOD, _("Recruitment methods (codes)."))
    control_methods = _codes(CodeList.CONTROL_METHOD, _("Methods of control (codes)."))
    relationship_to_trafficker = _code(CodeList.RELATIONSHIP_TO_TRAFFICKER, _("Relationship to the trafficker."))
    recruitment_province = _place_level(Province, _("Province of recruitment (code)."))
    recruitment_canton = _place_level(Canton, _("Canton of recruitment (code)."))
    recruitment_district = DistrictRelatedField(
        required=False, allow_null=True, help_text=_("District of recruitment (5-digit code).")
    )
    recruitment_country = IsoCountryField(required=False, allow_blank=True)
    exploitation_districts = DistrictRelatedField(
        many=True, required=False, help_text=_("Districts of exploitation (codes).")
    )
    exploitation_countries = CountryListField(required=False, help_text=_("Countries of exploitation."))
    nationalities = CountryListField(required=False, help_text=_("Nationalities of the person."))
    sex = _code(CodeList.SEX, _("Sex (code)."))
    gender_identity = _code(CodeList.GENDER_IDENTITY, _("Gender identity (code)."))
    migration_status = _code(CodeList.MIGRATION_STATUS, _("Migration status (code)."))
    education_level = _code(CodeList.EDUCATION_LEVEL, _("Education level (code)."))
    occupation = _code(CodeList.OCCUPATION, _("Occupation (code)."))
    residence_province = _place_level(Province, _("Province of residence (code)."))
    residence_canton = _place_level(Canton, _("Canton of residence (code)."))
    residence_district = DistrictRelatedField(
        required=False, allow_null=True, help_text=_("District of residence (5-digit code).")
    )
    mother_tongue = serializers.SlugRelatedField(
        slug_field="code", queryset=Language.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = Application
        fields = [
            "id",
            "institution",
            "case_reference",
            "person",
            "received_on",
            "status",
            "submitted_at",
            "decided_on",
            "due_on",
            "exploitation_forms",
            "sexual_exploitation_types",
            "labour_sectors",
            "means",
            "acts",
            "recruitment_methods",
            "control_methods",
            "relationship_to_trafficker",
            "recruitment_province",
            "recruitment_canton",
            "recruitment_district",
            "recruitment_country",
            "exploitation_districts",
            "exploitation_countries",
            "nationalities",
            "age_at_application",
            "age_at_recruitment",
            "sex",
            "gender_identity",
            "migration_status",
            "education_level",
            "occupation",
            "residence_province",
            "residence_canton",
            "residence_district",
            "mother_tongue",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["status", "submitted_at", "decided_on", "due_on", "version", "created_at", "updated_at"]


class ApplicationDetailSerializer(_IdentityGated, ApplicationSerializer):
    """One application; ``narrative`` (identity data) only when the view says the reader is entitled."""

    identity_field = "narrative"
    narrative = serializers.CharField(
        required=False, allow_blank=True, help_text=_("Free-text account of the case (identity data).")
    )

    class Meta(ApplicationSerializer.Meta):
        fields = [*ApplicationSerializer.Meta.fields, "narrative"]


class IdentitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Identity
        # The identity fields are listed once, where the services write them.
        fields = list(IDENTITY_FIELDS)


class PersonSerializer(serializers.ModelSerializer):
    """A person without identity data (lists)."""

    institution: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="code", read_only=True)
    applications = serializers.SerializerMethodField(help_text=_("Ids of the person's applications you can see."))

    class Meta:
        model = Person
        fields = ["id", "institution", "created_at", "applications"]

    def get_applications(self, person) -> list[int]:
        visible = self.context.get("visible_application_ids")
        if visible is None:
            return []  # fail closed: without the view's visible set, no application is listed
        return [a.pk for a in person.applications.all() if a.pk in visible]


class PersonDetailSerializer(_IdentityGated, PersonSerializer):
    """One person; ``identity`` only for those entitled (accounts.access.can_see_identity), otherwise absent."""

    identity_field = "identity"

    identity = IdentitySerializer(required=False, allow_null=True, read_only=True)

    class Meta(PersonSerializer.Meta):
        fields = [*PersonSerializer.Meta.fields, "identity"]


class DecisionSerializer(serializers.ModelSerializer):
    application = serializers.PrimaryKeyRelatedField(
        queryset=access.no_applications(),  # replaced by the view's visible queryset
        help_text=_("Id of the application decided."),
    )
    supersedes = serializers.PrimaryKeyRelatedField(queryset=Decision.objects.none(), required=False, allow_null=True)
    recorded_by: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Decision
        fields = [
            "id",
            "application",
            "kind",
            "supersedes",
            "resolution_number",
            "resolution_date",
            "votes_in_favour",
            "votes_against",
            "abstentions",
            "outcome",
            "reasons",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = ["recorded_by", "recorded_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        visible = self.context.get("visible_applications")
        if visible is not None:
            application = cast(serializers.RelatedField, self.fields["application"])
            supersedes = cast(serializers.RelatedField, self.fields["supersedes"])
            # The stubs type RelatedField.queryset with Manager, whose __get__ mypy then applies to the instance.
            application.queryset = visible  # type: ignore[arg-type]
            supersedes.queryset = Decision.objects.filter(application__in=visible)  # type: ignore[arg-type]


class InstitutionChoiceField(serializers.SlugRelatedField):
    """The institution an officer of several institutions acts for: one of THEIR institutions only."""

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "code")
        kwargs.setdefault("queryset", Institution.objects.none())
        super().__init__(**kwargs)


# --- Writes --------------------------------------------------------------------------------------------------
# The write serializers only give the JSON its shape and types (codes -> rows). The domain checks are those of
# the pages: the view hands the values to records.forms (ApplicationForm, DecisionForm), then to one
# records.services function. Nothing here decides a rule of the workflow.


class IdentityWriteSerializer(serializers.Serializer):
    given_names = serializers.CharField(max_length=150, required=False, allow_blank=True)
    family_names = serializers.CharField(max_length=150, required=False, allow_blank=True)
    document_type = serializers.ChoiceField(choices=Identity.DocumentType.choices, default=Identity.DocumentType.NONE)
    document_number = serializers.CharField(max_length=50, required=False, allow_blank=True)
    birth_date = serializers.DateField(required=False, allow_null=True)
    phone = serializers.CharField(max_length=50, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)


def _countries(label):
    return CountryListField(required=False, help_text=label)


class ApplicationWriteSerializer(serializers.Serializer):
    """Create (POST) or change (PUT/PATCH) an application with its person's identity data. On create the
    institution is the officer's own; an officer of several institutions names one of THEIR institutions in
    ``institution``. On change, ``version`` (from the last read) is required: a save over somebody else's newer
    edit is refused with 409."""

    institution = serializers.CharField(
        required=False,
        write_only=True,
        help_text=_("Only for officers of several institutions, on create: the code of one of their institutions."),
    )
    version = serializers.IntegerField(
        required=False, min_value=1, help_text=_("On change: the version you read (optimistic locking).")
    )
    case_reference = serializers.CharField(max_length=60)
    received_on = serializers.DateField()
    identity = IdentityWriteSerializer(required=False, help_text=_("Identity data of the person (confidential)."))
    exploitation_forms = _codes(CodeList.EXPLOITATION_FORM, _("Forms of exploitation (codes)."))
    sexual_exploitation_types = _codes(CodeList.SEXUAL_EXPLOITATION_TYPE, _("Types of sexual exploitation."))
    labour_sectors = _codes(CodeList.LABOUR_SECTOR, _("Labour sectors (codes)."))
    means = _codes(CodeList.MEANS, _("Means (codes)."))
    acts = _codes(CodeList.ACT, _("Acts (codes)."))
    recruitment_methods = _codes(CodeList.RECRUITMENT_METHOD, _("Recruitment methods (codes)."))
    control_methods = _codes(CodeList.CONTROL_METHOD, _("Methods of control (codes)."))
    relationship_to_trafficker = _code(CodeList.RELATIONSHIP_TO_TRAFFICKER, _("Relationship to the trafficker."))
    narrative = serializers.CharField(required=False, allow_blank=True, help_text=_("Account of the case."))
    recruitment_province = _place_level(Province, _("Province of recruitment (code)."))
    recruitment_canton = _place_level(Canton, _("Canton of recruitment (code)."))
    recruitment_district = DistrictRelatedField(required=False, allow_null=True)
    recruitment_country = IsoCountryField(required=False, allow_blank=True)
    exploitation_districts = DistrictRelatedField(many=True, required=False)
    exploitation_countries = _countries(_("Countries of exploitation (ISO codes)."))
    age_at_application = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=32767)
    age_at_recruitment = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=32767)
    sex = _code(CodeList.SEX, _("Sex (code)."))
    gender_identity = _code(CodeList.GENDER_IDENTITY, _("Gender identity (code)."))
    nationalities = _countries(_("Nationalities (ISO codes)."))
    migration_status = _code(CodeList.MIGRATION_STATUS, _("Migration status (code)."))
    education_level = _code(CodeList.EDUCATION_LEVEL, _("Education level (code)."))
    occupation = _code(CodeList.OCCUPATION, _("Occupation (code)."))
    residence_province = _place_level(Province, _("Province of residence (code)."))
    residence_canton = _place_level(Canton, _("Canton of residence (code)."))
    residence_district = DistrictRelatedField(required=False, allow_null=True)
    mother_tongue = serializers.SlugRelatedField(
        slug_field="code", queryset=Language.objects.all(), required=False, allow_null=True
    )


def form_data(values: dict) -> dict:
    """Values (rows, lists of rows, dates, countries) as the data of a bound Django form: primary keys and
    strings, lists for the multiple fields."""

    def one(value):
        if value is None:
            return ""
        if hasattr(value, "pk"):
            return str(value.pk)
        if hasattr(value, "isoformat"):
            return value.isoformat()
        return str(value)

    data = {}
    for name, value in values.items():
        if isinstance(value, list | tuple | set):
            data[name] = [one(v) for v in value]
        else:
            data[name] = one(value)
    return data


class DecisionWriteSerializer(serializers.Serializer):
    """An ERI resolution on an application you can see. For an application already decided, ``kind`` must be
    ``appeal`` or ``correction``: the new resolution supersedes the one in force (a decision is never edited)."""

    application = serializers.IntegerField(min_value=1, max_value=2**31 - 1, help_text=_("Application id."))
    kind = serializers.ChoiceField(choices=Decision.Kind.choices, default=Decision.Kind.ORIGINAL)
    resolution_number = serializers.CharField(max_length=60)
    resolution_date = serializers.DateField()
    votes_in_favour = serializers.IntegerField(min_value=0, max_value=99)
    votes_against = serializers.IntegerField(min_value=0, max_value=99)
    abstentions = serializers.IntegerField(min_value=0, max_value=99, default=0)
    outcome = serializers.ChoiceField(choices=Decision.Outcome.choices)
    reasons = serializers.CharField()


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text=_("Why the institution withdraws the application."))


class InformationRequestSerializer(serializers.Serializer):
    message = serializers.CharField(help_text=_("What information the ERI needs."))


class ServiceErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()
