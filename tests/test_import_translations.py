"""The import speaks the user's language: every message of the area has a Spanish translation with the same
placeholders, and with the fragment compiled the officer sees Spanish errors by row and column and "0 nuevas"."""

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from records.imports import samples
from records.imports.models import ImportJob

PART = Path(settings.BASE_DIR) / "locale" / "es" / "LC_MESSAGES" / "parts" / "imports.po"
HEADER = (
    'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
    '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n'
)
ENTRY = re.compile(
    r'msgid "((?:[^"\\]|\\.)*)"\n(?:msgid_plural "(?:[^"\\]|\\.)*"\n)?((?:msgstr(?:\[\d\])? "(?:[^"\\]|\\.)*"\n?)+)'
)


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\(\w+\)s", text))


def test_every_entry_is_translated_with_the_same_placeholders():
    text = PART.read_text(encoding="utf-8")
    entries = ENTRY.findall(text)
    assert len(entries) > 100
    for msgid, msgstrs in entries:
        for msgstr in re.findall(r'msgstr(?:\[\d\])? "((?:[^"\\]|\\.)*)"', msgstrs):
            assert msgstr, msgid
            assert placeholders(msgstr) == placeholders(msgid), msgid


@pytest.fixture
def spanish_catalog(tmp_path):
    if not shutil.which("msgfmt"):
        pytest.skip("msgfmt (gettext) is not installed")
    directory = tmp_path / "es" / "LC_MESSAGES"
    directory.mkdir(parents=True)
    (directory / "django.po").write_text(HEADER + PART.read_text(encoding="utf-8"), encoding="utf-8")
    subprocess.run(["msgfmt", "-o", str(directory / "django.mo"), str(directory / "django.po")], check=True)  # noqa: S603,S607
    with override_settings(LOCALE_PATHS=[str(tmp_path)]):
        yield


@pytest.mark.django_db
def test_officer_sees_spanish_errors_and_zero_new(cast, spanish_catalog):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = cast.client_for(cast.officer_a)
    rows = samples.sample_rows(20)
    rows[13].update(canton="101", distrito="Xyz")
    response = client.post(
        reverse("records:import_upload"), {"file": SimpleUploadedFile("casos.csv", samples.to_csv(rows))}, follow=True
    )
    page = response.content.decode()
    assert "fila 15, columna distrito: &#x27;Xyz&#x27; no es un distrito del cantón 101" in page
    assert "no se guardó nada" in page

    rows[13]["distrito"] = "10101"
    data = samples.to_csv(rows)
    for expected in ("20 nuevas", "0 nuevas"):
        client.post(reverse("records:import_upload"), {"file": SimpleUploadedFile("casos.csv", data)})
        job = ImportJob.objects.latest("id")
        page = client.post(reverse("records:import_confirm", args=[job.pk]), follow=True).content.decode()
        assert f"Importadas: {expected}" in page


@pytest.mark.django_db
def test_template_instructions_and_code_sheet_are_in_spanish(cast, spanish_catalog):
    from openpyxl import load_workbook

    response = cast.client_for(cast.officer_a).get(reverse("records:import_template", args=["xlsx"]))
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    assert next(workbook["codigos"].iter_rows(values_only=True))[:2] == ("columna", "código")
    assert "Plantilla para importar solicitudes de INAMU." in [
        r[0] for r in workbook["instrucciones"].iter_rows(values_only=True)
    ]
