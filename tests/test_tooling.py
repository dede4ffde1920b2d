"""The tooling that `make test` (and so CI) runs: mypy, on every app of the project, before the suite."""

from __future__ import annotations

import tomllib
from pathlib import Path

from django.conf import settings

from .test_records_scopes import project_apps

BASE_DIR = Path(settings.BASE_DIR)


def _test_recipe() -> list[str]:
    """The commands of the Makefile's ``test`` target, in order."""
    lines = (BASE_DIR / "Makefile").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("test:"))
    recipe = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        recipe.append(line.strip())
    return recipe


def test_make_test_type_checks_before_the_suite():
    recipe = _test_recipe()
    mypy = [i for i, command in enumerate(recipe) if "/mypy" in command]
    pytest_ = [i for i, command in enumerate(recipe) if "/pytest" in command]
    assert mypy and pytest_, recipe
    assert mypy[0] < pytest_[0], "mypy runs before the suite, so a type error fails make test at once"


def test_mypy_checks_every_app_of_the_project_with_the_django_plugins():
    config = tomllib.loads((BASE_DIR / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert project_apps() <= set(config["files"])
    assert {"mypy_django_plugin.main", "mypy_drf_plugin.main"} <= set(config["plugins"])


def test_the_type_checker_and_the_stubs_are_pinned():
    pins = dict(
        line.split("==", 1)
        for line in (BASE_DIR / "requirements-dev.txt").read_text(encoding="utf-8").splitlines()
        if "==" in line and not line.startswith("#")
    )
    assert {"mypy", "django-stubs", "djangorestframework-stubs"} <= pins.keys()
