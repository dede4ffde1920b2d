"""Benchmark of the bulk import: rows per second of the portal's import path (parse, validate every row, write
in one transaction with history) on PostgreSQL, next to (a) a stock django-import-export ModelResource with
default settings on the same rows and (b) PostgreSQL COPY of the same file into a scratch table (the floor).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/conatt_imports python bench/import_rows.py --rows 100000

Prints one JSON object. Each measured path runs in its own child process, so its peak memory (max RSS) is its
own. The stock resource saves row by row; with --stock-rows smaller than --rows it runs on that slice and its
rate is extrapolated (the JSON says so). The database named in DATABASE_URL is emptied of applications first:
use a scratch database.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conatt_portal.settings")
os.environ.setdefault("CONATT_ENV", "test")

BENCH_INSTITUTION = "INAMU"


def _django():
    import django

    django.setup()


def _peak_mb() -> float:
    """This process's own peak resident memory (VmHWM). ru_maxrss is not used: on Linux a child inherits the
    parent's high-water mark across exec, which would charge the file generation to the measured path."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _server_cpu() -> float:
    """CPU seconds of this connection's PostgreSQL backend (same machine), from /proc."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return float("nan")


def _measured(rows: int, run) -> dict:
    """Wall time (the target) and CPU time of the client and of its database backend: on a shared machine the
    wall time mostly measures the neighbours; rows / (client + server CPU) is what an idle machine would do."""
    client, server, started = _client_cpu(), _server_cpu(), time.perf_counter()
    extra = run()
    seconds = time.perf_counter() - started
    client, server = _client_cpu() - client, _server_cpu() - server
    return {
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds, 1),
        "client_cpu_seconds": round(client, 2),
        "server_cpu_seconds": round(server, 2),
        "rows_per_cpu_second": round(rows / (client + server), 1),
        **extra,
    }


def _empty_records() -> None:
    from django.db import connection

    tables = [
        m._meta.db_table
        for m in __import__("django.apps", fromlist=["apps"]).apps.get_app_config("records").get_models()
        if m.__name__.startswith(
            (
                "Application",
                "HistoricalApplication",
                "Person",
                "HistoricalPerson",
                "Identity",
                "HistoricalIdentity",
                "ImportJob",
            )
        )
    ]
    tables += [
        f.remote_field.through._meta.db_table
        for f in __import__("records.models", fromlist=["Application"]).Application._meta.many_to_many
    ]
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in sorted(set(tables))) + " CASCADE")


def _user(institution):
    from accounts.memberships import membership_bootstrap
    from accounts.models import User

    user, _ = User.objects.get_or_create(username="bench.importer")
    membership_bootstrap(user=user, institution=institution, role="officer")
    return user


def worker_portal(path: str, rows: int) -> dict:
    _django()
    from accounts.models import Institution
    from records.imports import parsing, services
    from records.models import Application

    institution = Institution.objects.get(code=BENCH_INSTITUTION)
    user = _user(institution)
    out = {}

    def run():
        parsed = parsing.open_parsed(path, name="bench.csv")
        outcome = services.import_rows(parsed=parsed, institution=institution, user=user, write=True)
        assert outcome.written and not outcome.errors, outcome.errors.items[:3]
        return {"new": outcome.new, "updated": outcome.updated, "unchanged": outcome.unchanged}

    for label in ("first_import", "same_file_again"):
        out[label] = _measured(rows, run)
    out["applications_in_db"] = Application.all_objects.filter(institution=institution).count()
    out["peak_memory_mb"] = _peak_mb()
    return out


def _stock_dataset(rows: list[dict], institution, lookups):
    """The same rows in the shape a default ModelResource reads: model field names, foreign keys as ids,
    many-to-many as comma-separated ids. People are created first (a ModelResource cannot create them)."""
    import tablib

    from records.imports.validation import Record, RowValidator  # noqa: F401
    from records.models import Person

    people = Person.objects.bulk_create([Person(institution=institution) for _ in rows])
    headers = [
        "institution",
        "case_reference",
        "person",
        "received_on",
        "status",
        "sex",
        "gender_identity",
        "migration_status",
        "education_level",
        "occupation",
        "mother_tongue",
        "residence_district",
        "relationship_to_trafficker",
        "recruitment_country",
        "exploitation_forms",
        "labour_sectors",
        "means",
        "acts",
        "recruitment_methods",
        "control_methods",
        "exploitation_districts",
    ]
    from records.imports import parsing, samples
    from records.imports.validation import RowValidator as Validator

    parsed = parsing.open_parsed(samples.to_csv(rows), name="x.csv")
    validator = Validator(parsed=parsed, institution=institution, lookups=lookups)
    dataset = tablib.Dataset(headers=headers)
    for record, person in zip(validator, people, strict=True):
        dataset.append(
            [
                institution.pk,
                record.case_reference,
                person.pk,
                record.received_on.isoformat(),
                record.status,
                record.sex,
                record.gender_identity,
                record.migration_status,
                record.education_level,
                record.occupation,
                record.mother_tongue,
                record.residence_district,
                record.relationship_to_trafficker,
                record.recruitment_country,
                ",".join(map(str, record.exploitation_forms)),
                ",".join(map(str, record.labour_sectors)),
                ",".join(map(str, record.means)),
                ",".join(map(str, record.acts)),
                ",".join(map(str, record.recruitment_methods)),
                ",".join(map(str, record.control_methods)),
                ",".join(record.exploitation_districts),
            ]
        )
    return dataset


def worker_stock(rows: int, seed: int) -> dict:
    _django()
    from accounts.models import Institution
    from records.imports import samples
    from records.imports.resources import StockApplicationResource
    from records.imports.validation import Lookups

    institution = Institution.objects.get(code="PANI")
    sample = samples.sample_rows(rows, seed=seed, prefix="STOCK")
    dataset = _stock_dataset(sample, institution, Lookups.load())

    def run():
        result = StockApplicationResource().import_data(dataset, dry_run=False, raise_errors=True)
        return {"new": result.totals.get("new")}

    return {"rows": rows, **_measured(rows, run), "peak_memory_mb": _peak_mb()}


def worker_copy(path: str, rows: int) -> dict:
    _django()
    from django.db import connection

    from records.imports import samples

    columns = samples.headers()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_import_scratch")
        cursor.execute("CREATE UNLOGGED TABLE bench_import_scratch (" + ", ".join(f'"{c}" text' for c in columns) + ")")
        started = time.perf_counter()
        with (
            open(path, "rb") as handle,
            cursor.cursor.copy("COPY bench_import_scratch FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
        ):
            while block := handle.read(1 << 20):
                copy.write(block)
        seconds = time.perf_counter() - started
        cursor.execute("SELECT count(*) FROM bench_import_scratch")
        copied = cursor.fetchone()[0]
        cursor.execute("DROP TABLE bench_import_scratch")
    return {"seconds": round(seconds, 3), "rows_per_second": round(copied / seconds), "rows": copied}


def _child(*args: str) -> dict:
    completed = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, env=os.environ.copy(), check=False
    )
    if completed.returncode != 0:
        raise SystemExit(completed.stderr[-4000:])
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10000)
    parser.add_argument("--stock-rows", type=int, default=None, help="slice for the stock resource (default: all)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--worker", choices=["portal", "stock", "copy"])
    parser.add_argument("--file")
    args = parser.parse_args()

    if args.worker == "portal":
        print(json.dumps(worker_portal(args.file, args.rows)))
        return
    if args.worker == "stock":
        print(json.dumps(worker_stock(args.rows, args.seed)))
        return
    if args.worker == "copy":
        print(json.dumps(worker_copy(args.file, args.rows)))
        return

    _django()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("Set DATABASE_URL to a scratch PostgreSQL database.")
    load_before = os.getloadavg()
    call_command("migrate", verbosity=0)
    _empty_records()
    from records.imports import samples

    started = time.perf_counter()
    data = samples.to_csv(samples.sample_rows(args.rows, seed=args.seed))
    generate_seconds = time.perf_counter() - started
    with tempfile.NamedTemporaryFile(suffix=".csv", delete=False) as handle:
        handle.write(data)
        path = handle.name
    try:
        floor = _child("--worker", "copy", "--file", path, "--rows", str(args.rows))
        portal = _child("--worker", "portal", "--file", path, "--rows", str(args.rows))
        stock_rows = min(args.stock_rows or args.rows, args.rows)
        stock = _child("--worker", "stock", "--rows", str(stock_rows), "--seed", str(args.seed + 1))
    finally:
        os.unlink(path)
    first = portal["first_import"]["rows_per_second"]
    load_after = os.getloadavg()
    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_1min_before": round(load_before[0], 2),
            "load_average_1min_after": round(load_after[0], 2),
        },
        "rows": args.rows,
        "file_mb": round(len(data) / 2**20, 1),
        "database": settings.DATABASES["default"]["NAME"],
        "generate_file_seconds": round(generate_seconds, 2),
        "portal": portal,
        "stock_model_resource": {
            **stock,
            "extrapolated": stock_rows < args.rows,
            "note": "row-by-row save() with simple_history signals; rate measured on the slice",
        },
        "postgres_copy_floor": floor,
        "portal_vs_stock": round(first / stock["rows_per_second"], 1),
        "portal_vs_stock_per_cpu_second": round(
            portal["first_import"]["rows_per_cpu_second"] / stock["rows_per_cpu_second"], 1
        ),
        "portal_vs_copy_floor": round(first / floor["rows_per_second"], 3),
        "targets": {
            "rows_per_second_ge_5000": first >= 5000,
            "ge_10x_stock": first >= 10 * stock["rows_per_second"],
            "peak_memory_le_500mb": portal["peak_memory_mb"] <= 500,
        },
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
