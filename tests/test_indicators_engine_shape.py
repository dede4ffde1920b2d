"""The recompute engine's shape (issue 18): records import only its outbox, no import cycle between its
modules, settings read when used, the SQL readable as text without running it, one test seam."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path
from unittest import mock

import pytest
from django.test import override_settings

from indicators import tasks
from indicators.recompute import outbox, seam
from indicators.recompute.sql import _COUNT, Source, Sql

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at module level or inside a function (absolute names)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names}
    return names


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_records_import_only_the_outbox_of_the_engine():
    used = set()
    for path in (ROOT / "records").rglob("*.py"):
        if "migrations" not in path.parts:
            used |= {name for name in _imports(path) if name.startswith("indicators.")}
    assert used and all(name.startswith("indicators.recompute.outbox") for name in used), used


def test_the_engine_modules_import_no_cycle():
    paths = [ROOT / "indicators" / "services.py", ROOT / "indicators" / "tasks.py"]
    paths += sorted((ROOT / "indicators" / "recompute").glob("*.py"))
    modules = {_module(p): p for p in paths}
    graph = {name: {m for m in modules if m != name and m in _imports(path)} for name, path in modules.items()}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in graph[start])

    assert [name for name in graph if reaches(name, name, {name})] == []


def test_the_engine_modules_stay_small():
    for path in (ROOT / "indicators" / "recompute").glob("*.py"):
        tree = ast.parse(path.read_text())
        assert len(path.read_text().splitlines()) <= 500, path.name
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                assert node.end_lineno - node.lineno < 80, f"{path.name}: {node.name}"


def test_the_debounce_is_read_from_settings_when_a_change_is_committed():
    with (
        override_settings(CELERY_TASK_ALWAYS_EAGER=False, INDICATORS_DEBOUNCE_SECONDS=3),
        mock.patch.object(outbox.cache, "add", return_value=True) as debounce,
        mock.patch.object(tasks.recompute_pending, "apply_async") as queue,
    ):
        outbox._enqueue_pending()
    assert debounce.call_args.kwargs["timeout"] == 3
    assert queue.call_args.kwargs["countdown"] == 3


@pytest.mark.django_db
def test_the_fact_statement_can_be_read_as_text():
    text = Sql(today=date(2025, 1, 1)).fact_sql(target="x", scope="a.id IN (7)", mask_scope="t.application_id IN (7)")
    assert text.startswith("INSERT INTO x (application_id, person_ref,")
    assert "AND (a.id IN (7))" in text and "WHERE t.application_id IN (7)" in text
    assert "%(today)s" in text  # the date is a parameter, never interpolated


def test_the_rows_of_a_cell_query_join_each_multi_valued_dimension_once():
    text = Sql(today=date(2025, 1, 1))._rows_sql(Source("facts", "values"), ["sex", "exploitation_form"], _COUNT.where)
    assert text.count("LEFT JOIN") == 1 and "(f.exploitation_form_mask & b_exploitation_form.bit) <> 0" in text
    assert "f.sex AS sex" in text and "FROM facts f" in text


def test_the_seam_runs_a_hook_a_test_sets_and_is_inert_otherwise(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(seam, "hook", lambda: calls.append(1))
    seam.before_commit()
    assert calls == [1]
    monkeypatch.setattr(seam, "hook", None)
    with override_settings(TEST_RECOMPUTE_PAUSE_FILE=str(tmp_path / "absent")):
        seam.before_commit()  # no file: returns at once
    assert not (tmp_path / "absent.reached").exists()
