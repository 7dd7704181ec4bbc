"""One engine plan in a process of its own, so its peak RSS is that plan's alone.

``python -m bench.plan_worker TARGET_URL CACHE_URL BLUEPRINT.json MANAGED.json`` validates the
blueprint (untimed: the app has done it before it plans), times the engine's ``plan()`` of it
against the target, managing the tables named in MANAGED.json, with the canonical-form cache
in CACHE_URL (``-`` for none), and prints one ``RESULT {json}`` line. The caller decides
what the cache holds beforehand (empty, or as after applying v1).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from bench import engine_adapter as engine
from bench.proc import measure

ROOT = Path(__file__).resolve().parent.parent
_MARK = "RESULT "


@dataclass(frozen=True)
class EngineSample:
    """One timed plan: seconds, peak RSS of its process, statements and tables materialized."""

    seconds: float
    maxrss_kib: int
    statements: int
    materialized: int


def main(argv: list[str]) -> int:
    target_url, cache_url, blueprint_path, managed_path = argv
    desired = engine.prepare_plan(engine.load_payload(Path(blueprint_path)))
    managed = json.loads(Path(managed_path).read_text())
    result = engine.plan(target_url, desired, managed, None if cache_url == "-" else cache_url)
    print(_MARK + json.dumps(result.__dict__), flush=True)
    return 0


def run(target_url: str, cache_url: str | None, blueprint: Path, managed: Path) -> EngineSample:
    """Run one plan in a fresh interpreter and measure it."""
    cmd = [
        sys.executable,
        "-m",
        "bench.plan_worker",
        target_url,
        cache_url or "-",
        str(blueprint),
        str(managed),
    ]
    # The repository root on the path, whatever directory the benchmark was started from.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = measure(cmd, env=env).check("plan_worker")
    line = next(x for x in done.stdout.splitlines() if x.startswith(_MARK))
    data = json.loads(line.removeprefix(_MARK))
    return EngineSample(
        seconds=data["seconds"],
        maxrss_kib=done.maxrss_kib,
        statements=data["statements"],
        materialized=data["materialized"],
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
