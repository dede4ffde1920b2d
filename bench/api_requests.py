"""Latency and query count of the main API reads, in-process (Django test client, no network), against the
database in DATABASE_URL with its current data (e.g. after `seed_demo` and `recompute_indicators --full`).
Prints JSON. Usage: DATABASE_URL=... python bench/api_requests.py [--repeat 30]"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conatt_portal.settings")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections, connection
    from rest_framework.test import APIClient

    from accounts.models import ApiToken, User
    from accounts.tokens import api_token_create
    from records.models import Application

    # Keep one connection for the whole run, so the query log sees every request's queries.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    settings.ALLOWED_HOSTS = ["*"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "1000000/hour", "token": "1000000/hour", "anon": "1000000/hour"},
    }
    officer = User.objects.get(username="officer.inamu")
    coordinator = User.objects.get(username="coordinator.eri")
    analyst = User.objects.get(username="analyst.conatt")
    clients, made = {}, []
    for name, user in (("officer", officer), ("coordinator", coordinator), ("analyst", analyst)):
        token, key = api_token_create(user=user, name="bench", days=1)
        made.append(token.pk)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        clients[name] = client
    one = Application.all_objects.filter(institution__code="INAMU").values_list("pk", flat=True).first()
    cases = [
        ("officer", "/api/v1/applications/?page_size=50"),
        ("coordinator", "/api/v1/applications/?page_size=200"),
        ("officer", f"/api/v1/applications/{one}/"),
        ("coordinator", "/api/v1/decisions/?page_size=50"),
        ("analyst", "/api/v1/indicators/crosstab/?measure=accredited&dims=sex,nationality"),
        ("analyst", "/api/v1/indicators/crosstab/?measure=accredited&dims=sex,age_group,nationality"),
        ("analyst", "/api/v1/indicators/by-year/?measure=received"),
        ("analyst", "/api/v1/codes/?list=exploitation_form"),
    ]
    results = []
    try:
        for who, url in cases:
            client = clients[who]
            client.get(url)  # warm-up
            connection.force_debug_cursor = True
            connection.queries_log.clear()
            status = client.get(url).status_code
            queries = list(connection.queries)
            connection.force_debug_cursor = False
            timings = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                client.get(url)
                timings.append((time.perf_counter() - start) * 1000)
            timings.sort()
            results.append(
                {
                    "as": who,
                    "url": url,
                    "status": status,
                    "queries": len(queries),
                    "p50_ms": round(statistics.median(timings), 1),
                    "p95_ms": round(timings[int(0.95 * (len(timings) - 1))], 1),
                }
            )
    finally:
        ApiToken.objects.filter(pk__in=made).delete()
    print(
        json.dumps(
            {
                "database": connection.vendor,
                "applications": Application.all_objects.count(),
                "repeat": args.repeat,
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
