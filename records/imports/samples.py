"""Synthetic, valid rows in the template's shape (Spanish headers), for the tests and the benchmark. Only
invented values: no real person's data is ever needed to exercise the import."""

from __future__ import annotations

import csv
import datetime
import io
import random

from records.models import Code, CodeList, District

from .columns import template_columns

MULTI = "; "


def sample_rows(count: int, *, seed: int = 1, prefix: str = "EXP", start: int = 1) -> list[dict[str, str]]:
    """``count`` rows keyed by Spanish header; codes written as codes, labels or lowercase labels, dates in the
    three accepted forms, so the forgiving paths are exercised too."""
    rng = random.Random(seed)
    codes: dict[str, list[tuple[str, str]]] = {}
    for list_name, value, label_es in Code.objects.values_list("list", "code", "label_es"):
        codes.setdefault(list_name, []).append((value, label_es))
    districts = list(District.objects.values_list("code", "canton_id"))
    nationalities = ["CR", "NI", "CO", "VE", "PA", "HN", "DO", "CU"]

    def code(list_name: str) -> str:
        value, label = rng.choice(codes[list_name])
        return rng.choice((value, label, label.lower()))

    def several(list_name: str, most: int) -> str:
        return MULTI.join(sorted({rng.choice(codes[list_name])[0] for _ in range(rng.randint(1, most))}))

    rows = []
    for number in range(start, start + count):
        received = datetime.date(2019, 1, 1) + datetime.timedelta(days=rng.randint(0, 2000))
        birth = received - datetime.timedelta(days=rng.randint(12 * 365, 60 * 365))
        district, canton = rng.choice(districts)
        date_style = number % 3
        received_text = (
            received.strftime("%d/%m/%Y")
            if date_style == 0
            else received.isoformat()
            if date_style == 1
            else str((received - datetime.date(1899, 12, 30)).days)
        )
        rows.append(
            {
                "referencia_caso": f"{prefix}-{number:07d}",
                "fecha_recepcion": received_text,
                "estado": "DRAFT",
                "fecha_decision": "",
                "numero_resolucion": "",
                "votos_favor": "",
                "votos_contra": "",
                "abstenciones": "",
                "fundamentos": "",
                "tipo_documento": "passport",
                "numero_documento": f"P{seed:02d}{number:08d}",
                "nombres": f"Nombre{number}",
                "apellidos": f"Apellido{number}",
                "fecha_nacimiento": birth.strftime("%d/%m/%Y"),
                "sexo": code(CodeList.SEX),
                "identidad_genero": code(CodeList.GENDER_IDENTITY),
                "edad_solicitud": "",
                "edad_reclutamiento": "",
                "nacionalidades": rng.choice(nationalities),
                "condicion_migratoria": code(CodeList.MIGRATION_STATUS),
                "nivel_educativo": code(CodeList.EDUCATION_LEVEL),
                "ocupacion": code(CodeList.OCCUPATION),
                "lengua_materna": "spa",
                "provincia": "",  # the canton's, derived
                "canton": canton,
                "distrito": district,
                "formas_explotacion": several(CodeList.EXPLOITATION_FORM, 2),
                "tipos_explotacion_sexual": "",
                "sectores_laborales": several(CodeList.LABOUR_SECTOR, 1),
                "medios": several(CodeList.MEANS, 2),
                "actos": several(CodeList.ACT, 1),
                "metodos_reclutamiento": several(CodeList.RECRUITMENT_METHOD, 1),
                "metodos_control": several(CodeList.CONTROL_METHOD, 2),
                "relacion_tratante": code(CodeList.RELATIONSHIP_TO_TRAFFICKER),
                "provincia_reclutamiento": "",
                "canton_reclutamiento": "",
                "distrito_reclutamiento": "",
                "pais_reclutamiento": rng.choice(nationalities),
                "distritos_explotacion": rng.choice(districts)[0],
                "paises_explotacion": "CR",
            }
        )
    return rows


def headers() -> list[str]:
    return [c.es for c in template_columns(with_identity=True)]


def to_csv(rows: list[dict[str, str]], *, delimiter: str = ",", encoding: str = "utf-8", bom: bool = False) -> bytes:
    buffer = io.StringIO()
    names = list(rows[0]) if rows else headers()
    writer = csv.DictWriter(buffer, fieldnames=names, delimiter=delimiter, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    data = buffer.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def to_xlsx(rows: list[dict[str, object]], *, header_names: list[str] | None = None) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.worksheets[0]  # a new workbook's one sheet (``active`` may be None to the type checker)
    sheet.title = "solicitudes"
    names = header_names or (list(rows[0]) if rows else headers())
    sheet.append(names)
    for row in rows:
        sheet.append([row.get(name, "") for name in (list(rows[0]) if rows else names)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
