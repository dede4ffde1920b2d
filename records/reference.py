"""Loading reference data (code lists, geography, languages) from CSV files. Idempotent: an existing code is
relabelled, a new one added, none deleted (a retired code stays valid on old records)."""

import csv
import unicodedata
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _rows(name: str, directory: Path):
    with (directory / name).open(encoding="utf-8-sig") as handle:
        yield from csv.DictReader(handle)


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii")
    return " ".join(text.casefold().split())


def means_not_recorded(label_es: str, label_en: str) -> bool:
    """A code whose label says "No registrado" / "Not recorded" (also "Edad no registrada", "No registrado /
    prefiere no indicar"): the
    list's unknown value, counted with the blank by the indicators and as missing on the data-quality page."""
    return "no registrad" in _plain(label_es) or "not recorded" in _plain(label_en)


def load_reference(*, Code, Province, Canton, District, Language, directory: Path = FIXTURES) -> dict:
    """Load every reference file of ``directory``; the model classes are passed so migrations can use their
    historical models. Returns the number of rows read per file."""
    counts = {}
    order: dict[str, int] = {}
    n = 0
    # Older migrations load with a historical Code that has no such field.
    flags_unknown = any(f.name == "means_not_recorded" for f in Code._meta.get_fields())
    for row in _rows("code_lists.csv", directory):
        order[row["list"]] = order.get(row["list"], 0) + 1
        new_only = {"means_not_recorded": means_not_recorded(row["label_es"], row["label_en"])} if flags_unknown else {}
        defaults = {
            "label_es": row["label_es"],
            "label_en": row["label_en"],
            "iccs": row["iccs"],
            "htcds": row["htcds"],
            "note": row["note"],
            "sort_order": order[row["list"]],
        }
        Code.objects.update_or_create(
            list=row["list"],
            code=row["code"],
            defaults=defaults,
            # For a new code only: an admin's choice on an existing one is kept when the files are loaded again.
            create_defaults={**defaults, **new_only} if new_only else None,
        )
        n += 1
    counts["code_lists.csv"] = n

    provinces, cantons, districts = {}, {}, []
    for row in _rows("cr_dta_districts.csv", directory):
        provinces[row["provincia_codigo"]] = (row["provincia"], row["iso_3166_2"])
        cantons[row["canton_codigo"]] = (row["canton"], row["provincia_codigo"])
        districts.append((row["distrito_codigo"], row["distrito"], row["canton_codigo"]))
    for code, (name, iso) in provinces.items():
        Province.objects.update_or_create(code=code, defaults={"name": name, "iso_3166_2": iso})
    for code, (name, province) in cantons.items():
        Canton.objects.update_or_create(code=code, defaults={"name": name, "province_id": province})
    for code, name, canton in districts:
        District.objects.update_or_create(code=code, defaults={"name": name, "canton_id": canton})
    counts["cr_dta_districts.csv"] = len(districts)

    n = 0
    for row in _rows("languages_cr.csv", directory):
        Language.objects.update_or_create(
            code=row["iso639_3"],
            defaults={"iso639_1": row["iso639_1"], "name_en": row["name_en_iso"], "name_es": row["nombre_es"]},
        )
        n += 1
    counts["languages_cr.csv"] = n
    return counts
