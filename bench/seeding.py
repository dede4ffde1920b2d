"""What the benchmarks share: topping the configured database up to a number of synthetic applications."""

import subprocess
import sys
from pathlib import Path


def top_up(applications: int, *, seed: int, have: int) -> None:
    """Seed ``applications - have`` more with ``manage.py seed_demo`` in a child process, so the benchmark's own
    peak memory is not the generator's (seeding a million holds ~300 MB); the seed follows ``have`` so a topped-up
    database holds the same records as one seeded at once."""
    if have >= applications:
        return
    manage = str(Path(__file__).resolve().parent.parent / "manage.py")
    count, first = str(applications - have), str(seed + have)
    subprocess.run(
        [sys.executable, manage, "seed_demo", "--applications", count, "--seed", first, "-v", "0"], check=True
    )
