"""The apps' shape (issue 18, point 7), as docs/ARCHITECTURE.md describes it: every domain app has the same
modules, so a newcomer finds a write in services.py and a read in selectors.py of any app; background work sits
in a tasks.py where there is some (and nowhere else: an empty tasks.py would say there is); the one app that is
not a domain app holds management commands only."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from .test_records_scopes import project_apps

BASE_DIR = Path(settings.BASE_DIR)
DOMAIN_APPS = ("accounts", "records", "indicators", "estimation")
SHAPE = ("models.py", "services.py", "selectors.py", "forms.py", "views.py", "urls.py", "admin.py", "apps.py", "api")
# Where Celery tasks are: the recompute, the estimation runs, the import steps (the import pipeline is a
# sub-package of records with its own tasks). Accounts has no background work.
TASKS = {"indicators", "estimation", "records/imports"}
TOOLS = {"operations": "management/commands"}  # backup and restore of the whole database


def _has_module(app: str, part: str) -> bool:
    """A module of the shape is a file or, once it has grown past about 500 lines (issue 18), a package of the
    same name (``indicators/views/``, as NetBox's ``models/``): imported the same way, found in the same place."""
    path = BASE_DIR / app / part
    return path.exists() or (part.endswith(".py") and (path.with_suffix("") / "__init__.py").exists())


def test_every_domain_app_has_the_same_shape():
    missing = [f"{app}/{part}" for app in DOMAIN_APPS for part in SHAPE if not _has_module(app, part)]
    assert missing == []


def test_every_app_of_the_project_is_a_domain_app_or_a_tool():
    assert project_apps() - {settings.ROOT_URLCONF.split(".")[0]} == set(DOMAIN_APPS) | set(TOOLS)


def test_tasks_live_where_the_background_work_is():
    outside = {".venv", "node_modules"}
    found = {str(p.parent.relative_to(BASE_DIR)) for p in BASE_DIR.glob("*/**/tasks.py") if not outside & set(p.parts)}
    assert found == TASKS


def test_a_tool_app_holds_its_commands_and_nothing_of_the_domain():
    for app, commands in TOOLS.items():
        assert list((BASE_DIR / app / commands).glob("*.py"))
        assert not [part for part in SHAPE if part != "apps.py" and (BASE_DIR / app / part).exists()]
