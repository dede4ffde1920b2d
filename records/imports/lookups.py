"""The reference data an import may name (codes, statuses, document types, geography, countries, languages),
read once per import into dictionaries keyed by each value's normalised code and labels, so that validating a
row (records.imports.validation) touches no database. A key two values share reads as ``AMBIGUOUS``."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import translation
from django_countries import countries

from records.models import Canton, Code, CodeList, District, Identity, Language, Province, Status
from records.validation import Geography

from .columns import normalise

AMBIGUOUS = object()


def _add(index: dict, key: str, value) -> None:
    key = normalise(key)
    if not key:
        return
    if key in index and index[key] != value:
        index[key] = AMBIGUOUS
    else:
        index[key] = value


@dataclass
class Lookups:
    """Every reference value an import may name, keyed by its normalised code and labels. Read once."""

    codes: dict[str, dict[str, int]] = field(default_factory=dict)
    code_lists_by_id: dict[int, str] = field(default_factory=dict)
    status: dict[str, str] = field(default_factory=dict)
    document_types: dict[str, str] = field(default_factory=dict)
    provinces: dict[str, object] = field(default_factory=dict)
    cantons: dict[str, object] = field(default_factory=dict)
    canton_province: dict[str, str] = field(default_factory=dict)
    district_canton: dict[str, str] = field(default_factory=dict)
    districts_in_canton: dict[str, dict[str, object]] = field(default_factory=dict)
    districts: dict[str, object] = field(default_factory=dict)
    countries: dict[str, str] = field(default_factory=dict)
    languages: dict[str, object] = field(default_factory=dict)
    institution_names: dict[str, int] = field(default_factory=dict)

    def geography(self) -> Geography:
        return Geography(canton_of_district=self.district_canton, province_of_canton=self.canton_province)

    @classmethod
    def load(cls) -> Lookups:
        lookups = cls()
        for code_id, list_name, code, label_es, label_en in Code.objects.values_list(
            "id", "list", "code", "label_es", "label_en"
        ):
            index = lookups.codes.setdefault(list_name, {})
            # A code wins over a label of another code that happens to read the same.
            for key in (label_en, label_es):
                _add(index, key, code_id)
            index[normalise(code)] = code_id
            lookups.code_lists_by_id[code_id] = list_name
        status_codes = dict(Code.objects.filter(list=CodeList.APPLICATION_STATUS).values_list("code", "label_es"))
        for value, label in Status.choices:
            for key in (value, str(label), status_codes.get(value, "")):
                _add(lookups.status, key, value)
            with translation.override("es"):
                _add(lookups.status, str(label), value)
        for value, label in Identity.DocumentType.choices:
            for language in ("en", "es"):
                with translation.override(language):
                    _add(lookups.document_types, str(label), value)
            lookups.document_types[normalise(value)] = value
        # Names officers write, whatever the interface language's catalogue holds.
        for extra, value in (
            ("cedula", "national_id"),
            ("cedula de identidad", "national_id"),
            ("dimex", "dimex"),
            ("pasaporte", "passport"),
            ("documento de refugiado", "refugee_id"),
            ("otro", "other"),
            ("otro documento", "other"),
            ("ninguno", "none"),
            ("sin documento", "none"),
        ):
            lookups.document_types.setdefault(extra, value)
        for code, name, iso in Province.objects.values_list("code", "name", "iso_3166_2"):
            _add(lookups.provinces, name, code)
            _add(lookups.provinces, iso, code)
        for code in Province.objects.values_list("code", flat=True):
            lookups.provinces[normalise(code)] = code
        for code, name, province in Canton.objects.values_list("code", "name", "province_id"):
            _add(lookups.cantons, name, code)
            lookups.canton_province[code] = province
        for code in lookups.canton_province:
            lookups.cantons[normalise(code)] = code
        for code, name, canton in District.objects.values_list("code", "name", "canton_id"):
            lookups.district_canton[code] = canton
            _add(lookups.districts_in_canton.setdefault(canton, {}), name, code)
            _add(lookups.districts, name, code)
        for code in lookups.district_canton:
            lookups.districts[normalise(code)] = code
            lookups.districts_in_canton[lookups.district_canton[code]][normalise(code)] = code
        for language in ("en", "es"):
            with translation.override(language):
                for code, name in countries:
                    _add(lookups.countries, name, code)
        for code, _name in countries:
            lookups.countries[normalise(code)] = code
            alpha3 = countries.alpha3(code)
            if alpha3:
                lookups.countries[normalise(alpha3)] = code
        for code, _iso1, name_en, name_es in Language.objects.values_list("code", "iso639_1", "name_en", "name_es"):
            for key in (name_en, name_es):
                _add(lookups.languages, key, code)
        for code, iso1, _en, _es in Language.objects.values_list("code", "iso639_1", "name_en", "name_es"):
            lookups.languages[normalise(code)] = code
            if iso1:
                lookups.languages[normalise(iso1)] = code
        return lookups
