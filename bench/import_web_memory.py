"""Benchmark of the web process during a large import in the embedded mode (issue 19, points 3 and 4): its peak
resident memory, whether it gives it back, and what the officer's page is told while the import runs.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/imports_bench python bench/import_web_memory.py --rows 50000

A real gunicorn (one worker, no broker: ``IMPORT_RUNNER = "process"``) serves the portal on a scratch database
(its records tables are emptied first). An officer uploads a generated template-shaped CSV of N new applications
through the upload page, the job page's progress URL is polled every 0.2 s until the dry run ends, the import is
confirmed and polled again until it ends. A sampler reads every 20 ms the resident memory (``VmRSS``) of the web
worker and of any runner process it started. Two runs, each on a fresh gunicorn and an emptied database:

- ``runner``: as shipped (files over ``IMPORT_SYNC_MAX_BYTES`` leave the request for a runner process);
- ``in_request``: the peer, ``IMPORT_SYNC_MAX_BYTES`` above the file's size, so the whole import runs inside the
  web worker, as it did before large files left the request.

Prints one JSON object: for each run the worker's memory before, at its peak and 3 s after the job ended, the
runner's peak, the seconds of each step, and the steps the progress URL named (with when each was first seen).
Target: the web worker's peak at most 200 MiB and back near its start afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conatt_portal.settings")
os.environ.setdefault("CONATT_ENV", "test")

_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _rss_mib(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class Sampler(threading.Thread):
    """The web worker's resident memory and the largest of its runner processes', every 20 ms."""

    def __init__(self, worker_pid: int):
        super().__init__(daemon=True)
        self.worker_pid = worker_pid
        self.worker_peak = 0.0
        self.runner_peak = 0.0
        self.runners: set[int] = set()
        self.stopped = threading.Event()

    def run(self) -> None:
        import psutil

        worker = psutil.Process(self.worker_pid)
        while not self.stopped.is_set():
            rss = _rss_mib(self.worker_pid)
            if rss is not None:
                self.worker_peak = max(self.worker_peak, rss)
            try:
                children = worker.children(recursive=True)
            except psutil.Error:
                children = []
            for child in children:
                self.runners.add(child.pid)
                rss = _rss_mib(child.pid)
                if rss is not None:
                    self.runner_peak = max(self.runner_peak, rss)
            time.sleep(0.02)


def _prepare(rows: int, seed: int) -> tuple[str, str]:
    """Empty the records, make the officer and a verified session; returns (session cookie, CSV path)."""
    import import_rows as shared

    shared._django()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import Institution
    from records.imports import samples

    call_command("migrate", verbosity=0)
    shared._empty_records()
    institution = Institution.objects.get(code=shared.BENCH_INSTITUTION)
    user = shared._user(institution)
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="bench", confirmed=True
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    with tempfile.NamedTemporaryFile(suffix=".csv", delete=False) as handle:
        handle.write(samples.to_csv(samples.sample_rows(rows, seed=seed)))
    return client.cookies[settings.SESSION_COOKIE_NAME].value, handle.name


def _gunicorn(port: int, media: str, extra: dict[str, str]) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(CONATT_ENV="development", DEBUG="false", IMPORT_RUNNER="process", MEDIA_ROOT=media, **extra)
    return subprocess.Popen(  # noqa: S603 - our interpreter, fixed arguments
        [sys.executable, "-m", "gunicorn", "conatt_portal.wsgi:application", "--bind", f"127.0.0.1:{port}"]
        + ["--workers", "1", "--timeout", "300"],
        cwd=str(ROOT),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _worker_pid(master: subprocess.Popen, base: str, http) -> int:
    import psutil

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if http.get(f"{base}/healthz", timeout=2).status_code == 200:
                children = psutil.Process(master.pid).children()
                if children:
                    return children[0].pid
        except Exception:  # noqa: BLE001,S110 - not up yet
            pass
        time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def _poll(http, base: str, job: int, timeline: list, started: float, step: str) -> dict:
    """Poll the job's progress URL until it stops running; record each step named, when first seen."""
    while True:
        data = http.get(f"{base}/records/import/{job}/progress/", timeout=30).json()
        label = (step, data["phase"], data.get("phase_label", ""))
        if not timeline or timeline[-1][:3] != label:
            timeline.append((*label, round(time.perf_counter() - started, 2), data["done"], data["total"]))
        if not data["running"]:
            return data
        time.sleep(0.2)


def run_once(*, rows: int, seed: int, in_request: bool, port: int) -> dict:
    import requests

    cookie, path = _prepare(rows, seed)
    size = os.path.getsize(path)
    media = tempfile.mkdtemp(prefix="bench-media-")
    extra = {"IMPORT_SYNC_MAX_BYTES": str(size + 1)} if in_request else {}
    master = _gunicorn(port, media, extra)
    base = f"http://127.0.0.1:{port}"
    http = requests.Session()
    http.cookies.set("sessionid", cookie)
    try:
        worker = _worker_pid(master, base, http)
        page = http.get(f"{base}/records/import/", timeout=30)
        http.get(f"{base}/records/import/", timeout=30)  # a warm worker: templates and modules loaded
        start_rss = _rss_mib(worker)
        sampler = Sampler(worker)
        sampler.start()
        timeline: list = []
        started = time.perf_counter()
        with open(path, "rb") as upload:
            answer = http.post(
                f"{base}/records/import/",
                data={"csrfmiddlewaretoken": _CSRF.search(page.text).group(1)},
                files={"file": ("solicitudes.csv", upload, "text/csv")},
                headers={"Referer": f"{base}/records/import/"},
                allow_redirects=False,
                timeout=600,
            )
        upload_answer = time.perf_counter() - started
        job = int(answer.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
        preview = _poll(http, base, job, timeline, started, "preview")
        preview_seconds = time.perf_counter() - started
        page = http.get(f"{base}/records/import/{job}/", timeout=30)
        confirm_started = time.perf_counter()
        answer = http.post(
            f"{base}/records/import/{job}/confirm/",
            data={"csrfmiddlewaretoken": _CSRF.search(page.text).group(1)},
            headers={"Referer": f"{base}/records/import/{job}/"},
            allow_redirects=False,
            timeout=600,
        )
        confirm_answer = time.perf_counter() - confirm_started
        done = _poll(http, base, job, timeline, started, "confirm")
        confirm_seconds = time.perf_counter() - confirm_started
        time.sleep(3)
        after_rss = _rss_mib(worker)
        sampler.stopped.set()
        sampler.join()
        return {
            "mode": "in_request" if in_request else "runner",
            "file_mb": round(size / 2**20, 1),
            "preview_status": preview["status"],
            "final_status": done["status"],
            "web_worker_mib": {
                "start": round(start_rss, 1),
                "peak": round(sampler.worker_peak, 1),
                "after": round(after_rss, 1),
            },
            "runner_processes": len(sampler.runners),
            "runner_peak_mib": round(sampler.runner_peak, 1),
            "seconds": {
                "upload_answered": round(upload_answer, 2),
                "upload_to_previewed": round(preview_seconds, 2),
                "confirm_answered": round(confirm_answer, 2),
                "confirm_to_done": round(confirm_seconds, 2),
            },
            "steps_seen": [
                {"step": s, "phase": p, "label": label, "at": at, "done": d, "total": t}
                for s, p, label, at, d, t in timeline
            ],
        }
    finally:
        master.send_signal(signal.SIGTERM)
        try:
            master.wait(timeout=30)
        except subprocess.TimeoutExpired:
            master.send_signal(signal.SIGKILL)
            master.wait(timeout=15)
        os.unlink(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=50000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--only", choices=["runner", "in_request"])
    parser.add_argument("--run", choices=["runner", "in_request"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        print(json.dumps(run_once(rows=args.rows, seed=args.seed, in_request=args.run == "in_request", port=args.port)))
        return
    load_before = os.getloadavg()[0]
    runs = {}
    for mode in [args.only] if args.only else ["runner", "in_request"]:
        # Each run in a process of its own: the bench's own Django and file generation stay out of the figures.
        completed = subprocess.run(  # noqa: S603 - our interpreter, fixed arguments
            [sys.executable, __file__, "--run", mode, "--rows", str(args.rows), "--seed", str(args.seed)]
            + ["--port", str(args.port)],
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            raise SystemExit(completed.stderr[-4000:])
        runs[mode] = json.loads(completed.stdout.strip().splitlines()[-1])
    report = {"rows": args.rows, "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)], **runs}
    if "runner" in runs:
        memory = runs["runner"]["web_worker_mib"]
        report["targets"] = {
            "web_peak_le_200_mib": memory["peak"] <= 200,
            "web_after_within_10_mib_of_start": memory["after"] - memory["start"] <= 10,
        }
        if "in_request" in runs:
            report["web_peak_runner_vs_in_request"] = round(
                memory["peak"] / runs["in_request"]["web_worker_mib"]["peak"], 2
            )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
