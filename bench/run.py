"""Every benchmark in turn: ``python -m bench.run [--smoke]`` (``make bench-smoke``).

Each one runs in its own interpreter, as ``python -m bench.<name>``, with the same flags. A
benchmark that is not in the tree yet is skipped with a note. The exit code is non-zero when
any benchmark crashed; none of them fails on a time.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = (
    "bench.plan_bench",
    "bench.bench_validate",
    "bench.apply_bench",
    "bench.proposal_page",
    "bench.api_latency",
    "bench.audit_admin",
    # ~8 s in smoke mode (three cases and the Supabase-shaped fixture), ~4 min in full.
    "bench.import_round_trip_report",
    "bench.online_bench",
    "bench.many_tables_bench",
)


def main(argv: list[str]) -> int:
    failed = []
    for module in BENCHMARKS:
        if importlib.util.find_spec(module) is None:
            print(f"[bench.run] {module}: not present, skipped", flush=True)
            continue
        print(f"[bench.run] {module} {' '.join(argv)}", flush=True)
        if subprocess.run([sys.executable, "-m", module, *argv], cwd=ROOT).returncode != 0:
            failed.append(module)
    if failed:
        print(f"[bench.run] crashed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
