"""Serializers of the records API. They translate between JSON and the models; they hold no workflow rule
(those are in records.services) and decide no visibility (that is accounts.access). Identity data is only
serialized by the detail serializers, and only when the view says the reader is entitled."""

from django.utils.translation import gettext_lazy as _
from django_countries.serializer_fields import CountryField
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Institution
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

# --- Reference data ------------------------------------------------------------------------------------------


class CodeSerializer(serializers.ModelSerializer):
    label = serializers.CharField(read_only=True, help_text=_("Label in the language of the request."))

    class Meta:
        model = Code
        fields = ["list", "code", "label", "label_es", "label_en", "iccs", "htcds", "active", "sort_order"]


class CodeListSerializer(serializers.Serializer):
    list = serializers.CharField(help_text=_("Name of the code list, used as ?list= on /codes/."))
    label = serializers.CharField()


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


class DistrictRelatedField(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", District.objects.all())
        kwargs.setdefault("slug_field", "code")
        super().__init__(**kwargs)


def _codes(code_list: str, label) -> CodeRelatedField:
    return CodeRelatedField(code_list, many=True, required=False, help_text=label)


def _code(code_list: str, label) -> CodeRelatedField:
    return CodeRelatedField(code_list, required=False, allow_null=True, help_text=label)


@extend_schema_field({"type": "array", "items": {"type": "string", "description": "ISO 3166-1 alpha-2"}})
class CountryListField(serializers.ListField):
    child = CountryField()

    def to_representation(self, data):
        return [str(row.country) for row in data.all()]


class ApplicationSerializer(serializers.ModelSerializer):
    """An application without identity data: what lists return."""

    institution = serializers.SlugRelatedField(slug_field="code", read_only=True)
    person = serializers.PrimaryKeyRelatedField(read_only=True)
    exploitation_forms = _codes(CodeList.EXPLOITATION_FORM, _("Forms of exploitation (codes)."))
    sexual_exploitation_types = _codes(CodeList.SEXUAL_EXPLOITATION_TYPE, _("Types of sexual exploitation."))
    labour_sectors = _codes(CodeList.LABOUR_SECTOR, _("Labour sectors (codes)."))
    means = _codes(CodeList.MEANS, _("Means (codes)."))
    acts = _codes(CodeList.ACT, _("Acts (codes)."))
    recruitment_methods = _codes(CodeList.RECRUITMENT_METHOD, _("Recruitment methods (codes)."))
    control_methods = _codes(CodeList.CONTROL_METHOD, _("Methods of control (codes)."))
    relationship_to_trafficker = _code(CodeList.RELATIONSHIP_TO_TRAFFICKER, _("Relationship to the trafficker."))
    recruitment_district = DistrictRelatedField(
        required=False, allow_null=True, help_text=_("District of recruitment (5-digit code).")
    )
    recruitment_country = CountryField(required=False, allow_blank=True)
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
            "residence_district",
            "mother_tongue",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["status", "submitted_at", "decided_on", "due_on", "version", "created_at", "updated_at"]


class ApplicationDetailSerializer(ApplicationSerializer):
    """One application; ``narrative`` (identity data) only when the view says the reader is entitled."""

    narrative = serializers.CharField(
        required=False, allow_blank=True, help_text=_("Free-text account of the case (identity data).")
    )

    class Meta(ApplicationSerializer.Meta):
        fields = [*ApplicationSerializer.Meta.fields, "narrative"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context.get("identity_allowed", False):
            data.pop("narrative", None)
        return data


class IdentitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Identity
        fields = [
            "given_names",
            "family_names",
            "document_type",
            "document_number",
            "birth_date",
            "phone",
            "email",
            "address",
        ]


class PersonSerializer(serializers.ModelSerializer):
    """A person without identity data (lists)."""

    institution = serializers.SlugRelatedField(slug_field="code", read_only=True)
    applications = serializers.SerializerMethodField(help_text=_("Ids of the person's applications you can see."))

    class Meta:
        model = Person
        fields = ["id", "institution", "created_at", "applications"]

    def get_applications(self, person) -> list[int]:
        visible = self.context.get("visible_application_ids")
        ids = [a.pk for a in person.applications.all()]
        return [pk for pk in ids if visible is None or pk in visible]


class PersonDetailSerializer(PersonSerializer):
    """One person; ``identity`` only for those entitled (accounts.access.can_see_identity), otherwise absent."""

    identity = IdentitySerializer(required=False, allow_null=True, read_only=True)

    class Meta(PersonSerializer.Meta):
        fields = [*PersonSerializer.Meta.fields, "identity"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context.get("identity_allowed", False):
            data.pop("identity", None)
        return data


class DecisionSerializer(serializers.ModelSerializer):
    application = serializers.PrimaryKeyRelatedField(
        queryset=Application.objects.none(),  # replaced by the view's visible queryset
        help_text=_("Id of the application decided."),
    )
    supersedes = serializers.PrimaryKeyRelatedField(queryset=Decision.objects.none(), required=False, allow_null=True)
    recorded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

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
            self.fields["application"].queryset = visible
            self.fields["supersedes"].queryset = Decision.objects.filter(application__in=visible)


class InstitutionChoiceField(serializers.SlugRelatedField):
    """The institution an officer of several institutions acts for: one of THEIR institutions only."""

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "code")
        kwargs.setdefault("queryset", Institution.objects.none())
        super().__init__(**kwargs)
