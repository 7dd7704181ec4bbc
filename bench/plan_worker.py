"""One engine measurement in a process of its own, so its peak RSS is the plan's alone.

``python -m bench.plan_worker MODE URL V1.json V2.json`` prints one ``RESULT {json}`` line:
the seconds of the timed call and what it produced. Modes:

- ``empty``: plan v1 against ``URL``'s empty schema.
- ``warm``: plan v2 against the live v1 at ``URL``, with the canonical-form cache as the app
  holds it after applying v1 (built first, untimed).
- ``cold``: the same plan with no cache.

Exit code 3 means the engine is not ready for this mode (nothing was measured).
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench import engine_adapter as engine
from bench.proc import measure

ROOT = Path(__file__).resolve().parent.parent
MODES = ("empty", "warm", "cold")
NOT_READY = 3
_MARK = "RESULT "


@dataclass(frozen=True)
class EngineSample:
    """One timed plan: seconds, peak RSS of its process, and statements planned."""

    seconds: float
    maxrss_kib: int
    statements: int


def main(argv: list[str]) -> int:
    mode, url, v1_path, v2_path = argv
    v1 = engine.prepare_plan(engine.load_payload(Path(v1_path)))
    v2 = engine.prepare_plan(engine.load_payload(Path(v2_path))) if mode != "empty" else None
    try:
        seconds, result = _timed(mode, url, v1, v2)
    except engine.EngineNotReady as exc:
        print(str(exc), file=sys.stderr)
        return NOT_READY
    print(_MARK + json.dumps({"seconds": seconds, "statements": result.statements}))
    return 0


def _timed(mode: str, url: str, v1: object, v2: object) -> tuple[float, engine.PlanResult]:
    if mode == "empty":
        start = time.perf_counter()
        result = engine.plan_from_empty(url, v1)
    elif mode == "warm":
        cache = engine.warm_cache(url, v1)
        start = time.perf_counter()
        result = engine.plan_incremental(url, v2, cache)
    elif mode == "cold":
        start = time.perf_counter()
        result = engine.plan_incremental(url, v2, None)
    else:
        raise SystemExit(f"unknown mode {mode!r}; expected one of {MODES}")
    return time.perf_counter() - start, result


def run(mode: str, url: str, v1_path: Path, v2_path: Path) -> EngineSample | None:
    """Run one measurement in a fresh interpreter; None when the engine is not ready for it."""
    cmd = [sys.executable, "-m", "bench.plan_worker", mode, url, str(v1_path), str(v2_path)]
    # The repository root on the path, whatever directory the benchmark was started from.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = measure(cmd, env=env)
    if done.returncode == NOT_READY:
        return None
    done.check(f"plan_worker {mode}")
    line = next(x for x in done.stdout.splitlines() if x.startswith(_MARK))
    data = json.loads(line.removeprefix(_MARK))
    return EngineSample(data["seconds"], done.maxrss_kib, data["statements"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
