"""Load benchmark of the report pages: locust (headless, as a library) against gunicorn on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/conatt_reports \\
    REDIS_URL=redis://127.0.0.1:6379/3 \\
    python bench/report_load.py --users 20 --duration 60 --port 8103

The database must already hold the applications and their indicator tables (``manage.py seed_demo
--applications 1000000`` then ``manage.py recompute_indicators --full``); this script only creates a benchmark
analyst, starts gunicorn, runs the load and stops gunicorn. 20 simulated analysts log in and then, pausing 1 to
3 s between requests, open the report pages, their chart data and a CSV export; in the same run, they also call
/healthz (a trivial Django view that touches the database) so its p95 is the floor the pages are compared with.

Prints one JSON document: per page p50/p95/p99 (ms), request count and error rate; the floor; and whether the
targets hold (dashboard p95 <= 150 ms and <= 3x the floor, no errors). No assertion: figures go to the docs.

``--scenario public`` measures the public statistics page instead: anonymous visitors (``--users 50``) open
/estadisticas/, its CSV files, its map data and its protection page, and call /healthz in the same run; the
targets are public page p95 <= 50 ms and <= 2x the floor, no errors.
"""

from __future__ import annotations

# locust patches the standard library with gevent; it must come first.
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import secrets  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
from locust import HttpUser, between, task  # noqa: E402
from locust.env import Environment  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
USERNAME = "bench.analyst"
PASSWORD = secrets.token_urlsafe(18)

DIMENSIONS = ["sex", "age_group", "nationality", "migration_status", "residence_province"]
CROSSTABS = [
    "dims=sex&dims=age_group",
    "dims=sex&dims=age_group&dims=nationality",
    "dims=nationality&dims=migration_status",
]
YEAR_FILTERS = ["", "year_from=2023&year_to=2024", "year_from=2024&year_to=2024&sex=F"]


LOGGED_IN = {"n": 0}


class Analyst(HttpUser):
    wait_time = between(1, 3)

    def on_start(self):
        self.login()
        LOGGED_IN["n"] += 1

    def login(self):
        page = self.client.get("/accounts/login/", name="login form")
        token = self.client.cookies.get("csrftoken", "")
        self.client.post(
            "/accounts/login/",
            data={"username": USERNAME, "password": PASSWORD, "csrfmiddlewaretoken": token},
            headers={"Referer": page.url},
            name="login",
        )

    @task(6)
    def dashboard(self):
        query = random.choice(YEAR_FILTERS)
        self.client.get(f"/reports/?{query}", name="dashboard")

    @task(4)
    def floor(self):
        self.client.get("/healthz", name="healthz (floor)")

    @task(3)
    def dashboard_chart(self):
        self.client.get("/reports/chart/by-year/", name="chart: by year")

    @task(3)
    def dimension(self):
        self.client.get(f"/reports/disaggregations/{random.choice(DIMENSIONS)}/", name="disaggregation")

    @task(3)
    def crosstab(self):
        self.client.get(f"/reports/intersections/?{random.choice(CROSSTABS)}", name="intersections")

    @task(2)
    def trends(self):
        dims = random.choice(["dims=sex", "dims=nationality", "dims=exploitation_form", "dims=sex&dims=nationality"])
        self.client.get(f"/reports/trends/?{dims}", name="trends")

    @task(1)
    def profiles(self):
        self.client.get("/reports/profiles/", name="profiles")

    @task(1)
    def relations(self):
        self.client.get("/reports/relations/", name="relations")

    @task(1)
    def maps(self):
        self.client.get("/reports/maps/", name="maps")

    @task(1)
    def map_data(self):
        self.client.get("/reports/chart/map-canton/", name="chart: canton map")

    @task(1)
    def quality(self):
        self.client.get("/reports/quality/", name="quality")

    @task(1)
    def international(self):
        self.client.get("/reports/international/", name="international")

    @task(1)
    def export_csv(self):
        self.client.get("/reports/export/crosstab.csv?dims=sex&dims=age_group", name="export CSV")


PUBLIC_TABLES = [
    "public-headline",
    "public-sex",
    "public-child-adult",
    "public-exploitation-form",
    "public-nationality-region",
    "public-province-map",
    "public-sdg-16-2-2",
]


class Visitor(HttpUser):
    """An anonymous visitor of the public statistics: no login, the same page for everyone."""

    wait_time = between(1, 3)

    def on_start(self):
        LOGGED_IN["n"] += 1

    @task(6)
    def public_page(self):
        self.client.get("/estadisticas/", name="public page")

    @task(4)
    def floor(self):
        self.client.get("/healthz", name="healthz (floor)")

    @task(2)
    def public_csv(self):
        self.client.get(f"/estadisticas/{random.choice(PUBLIC_TABLES)}.csv", name="public CSV")

    @task(1)
    def public_map(self):
        self.client.get("/estadisticas/mapa.json", name="public map data")

    @task(1)
    def public_protection(self):
        self.client.get("/estadisticas/proteccion/", name="public protection page")


def server_env(args) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "CONATT_ENV": "development",  # production forces secure cookies, which a plain-HTTP client drops
            "DEBUG": "False",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DB_CONN_MAX_AGE": "60",
        }
    )
    return env


def prepare_user(env: dict) -> None:
    """The benchmark analyst (CONATT institution), with a fresh password for this run."""
    code = (
        "from accounts.memberships import membership_bootstrap\n"
        "from accounts.models import Institution, Role, User\n"
        f"u, _ = User.objects.get_or_create(username={USERNAME!r})\n"
        f"u.set_password({PASSWORD!r}); u.save()\n"
        "conatt = Institution.objects.get(code='CONATT')\n"
        "membership_bootstrap(user=u, institution=conatt, role=Role.ANALYST)\n"
    )
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, check=True, capture_output=True
    )


def start_gunicorn(args, env: dict) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "gunicorn", "conatt_portal.wsgi:application",
        "--bind", f"127.0.0.1:{args.port}",
        "--workers", str(args.workers),
        "--threads", str(args.threads),
        "--access-logfile", "/dev/null",
        "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{args.port}/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return process
        except OSError:
            time.sleep(0.5)
    stop(process)
    raise SystemExit("gunicorn did not answer /healthz within 60 s")


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


def warm_up(host: str, scenario: str = "analysts") -> None:
    """One pass over the pages before measuring, so the figures are of a running service, not a cold start."""
    if scenario == "public":
        Visitor.host = host
        user = Visitor(Environment(user_classes=[Visitor], host=host))
        for _ in range(3):  # every gunicorn worker builds nothing: the page is in the shared cache after one
            user.public_page()
            user.public_map()
            user.public_protection()
        for table in PUBLIC_TABLES:
            user.client.get(f"/estadisticas/{table}.csv", name="warm-up")
        return
    Analyst.host = host
    env = Environment(user_classes=[Analyst], host=host)
    user = Analyst(env)
    user.login()
    for name in ("dashboard", "dashboard_chart", "dimension", "crosstab", "trends", "profiles", "relations", "maps",
                 "map_data", "quality", "international", "export_csv"):  # fmt: skip
        getattr(user, name)()


def measure(host: str, users: int, duration: int, user_class=None) -> dict:
    env = Environment(user_classes=[user_class or Analyst], host=host)
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=users)
    # Twenty logins at once (PBKDF2 on purpose slow) are not report traffic: measure from the moment every
    # simulated analyst is logged in.
    deadline = time.time() + 180
    while LOGGED_IN["n"] < users and time.time() < deadline:
        gevent.sleep(0.2)
    env.stats.reset_all()
    gevent.spawn_later(duration, runner.quit)
    runner.greenlet.join()
    pages = {}
    for (name, _method), entry in sorted(env.stats.entries.items()):
        if entry.num_requests == 0:
            continue
        pages[name] = {
            "requests": entry.num_requests,
            "p50_ms": entry.get_response_time_percentile(0.50),
            "p95_ms": entry.get_response_time_percentile(0.95),
            "p99_ms": entry.get_response_time_percentile(0.99),
            "error_rate": round(entry.num_failures / entry.num_requests, 4),
        }
    total = env.stats.total
    return {
        "pages": pages,
        "total_requests": total.num_requests,
        "total_error_rate": round(total.num_failures / total.num_requests, 4) if total.num_requests else None,
        "errors": {str(e.name): e.occurrences for e in env.stats.errors.values()},
    }


def count_applications(env: dict) -> int:
    code = "from records.models import Application; print(Application.all_objects.count())"
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return int(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--duration", type=int, default=60, help="seconds of measured load")
    parser.add_argument("--port", type=int, default=8103)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--scenario", choices=["analysts", "public"], default="analysts")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to the PostgreSQL database that holds the benchmark data.")

    env = server_env(args)
    prepare_user(env)
    applications = count_applications(env)
    host = f"http://127.0.0.1:{args.port}"
    server = start_gunicorn(args, env)
    try:
        warm_up(host, args.scenario)
        result = measure(host, args.users, args.duration, Visitor if args.scenario == "public" else Analyst)
    finally:
        stop(server)

    if args.scenario == "public":
        print(json.dumps(public_report(args, env, applications, result), indent=2))
        return

    dashboard = result["pages"].get("dashboard", {})
    floor = result["pages"].get("healthz (floor)", {})
    floor_p95 = floor.get("p95_ms")
    dash_p95 = dashboard.get("p95_ms")
    report = {
        "benchmark": "report_load",
        "applications": applications,
        "users": args.users,
        "wait_s": [1, 3],
        "duration_s": args.duration,
        "server": f"gunicorn {args.workers} workers x {args.threads} threads, PostgreSQL, cache "
        + ("Redis" if env.get("REDIS_URL") else "local memory"),
        "floor_p95_ms": floor_p95,
        "dashboard_p95_ms": dash_p95,
        "dashboard_p95_over_floor": round(dash_p95 / floor_p95, 2) if dash_p95 and floor_p95 else None,
        "targets": {
            "dashboard_p95_le_150ms": bool(dash_p95 is not None and dash_p95 <= 150),
            "dashboard_p95_le_3x_floor": bool(dash_p95 and floor_p95 and dash_p95 <= 3 * floor_p95),
            "no_errors": result["total_error_rate"] == 0,
        },
        **result,
    }
    print(json.dumps(report, indent=2))


def public_report(args, env: dict, applications: int, result: dict) -> dict:
    page = result["pages"].get("public page", {})
    floor_p95 = result["pages"].get("healthz (floor)", {}).get("p95_ms")
    page_p95 = page.get("p95_ms")
    return {
        "benchmark": "report_load (public)",
        "applications": applications,
        "users": args.users,
        "wait_s": [1, 3],
        "duration_s": args.duration,
        "server": f"gunicorn {args.workers} workers x {args.threads} threads, PostgreSQL, cache "
        + ("Redis" if env.get("REDIS_URL") else "local memory"),
        "floor_p95_ms": floor_p95,
        "public_page_p95_ms": page_p95,
        "public_page_p95_over_floor": round(page_p95 / floor_p95, 2) if page_p95 and floor_p95 else None,
        "targets": {
            "public_page_p95_le_50ms": bool(page_p95 is not None and page_p95 <= 50),
            "public_page_p95_le_2x_floor": bool(page_p95 and floor_p95 and page_p95 <= 2 * floor_p95),
            "no_errors": result["total_error_rate"] == 0,
        },
        **result,
    }


if __name__ == "__main__":
    main()
