"""Validation benchmark: ``python -m bench.bench_validate [--smoke] [--repeat N]``.

Prints how long the blueprint contract takes on large inputs; it never fails on a time.

- validate + normalize (``validate_envelope``: limits, models, fragment parsing, rules,
  normalization, canonical JSON and hash) of a realistic 1,000-table blueprint, with the
  fragment caches cleared before every run ("cold") and left warm ("warm");
- rejection of hostile sizes: one 5 MB description (past the field's own limit), a payload
  past the contract's size limit spread over table comments each within theirs, and one
  table more than the contract's limit.

``--smoke`` runs each measurement once on a 100-table blueprint (CI's check that it runs).
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from schemabuilder.engine import (
    MAX_PAYLOAD_BYTES,
    MAX_TABLES,
    BlueprintInvalid,
    check_expression,
    check_type,
    validate_envelope,
)

try:
    from bench.schemas import blueprint as realistic_blueprint
except ImportError:  # the plan benchmark's generator is optional here
    realistic_blueprint = None


def _simple_blueprint(n: int) -> dict[str, Any]:
    tables = []
    for i in range(n):
        tables.append(
            {
                "name": f"table_{i}",
                "columns": [
                    {"name": "code", "type": "VARCHAR(40)", "not_null": True, "unique": True},
                    {"name": "amount", "type": "NUMERIC(12,2)", "check": "amount >= 0"},
                    {
                        "name": "status",
                        "type": "TEXT",
                        "default": "'NEW'",
                        "check": "status IN ('NEW', 'DONE')",
                    },
                    {"name": "tags", "type": "TEXT[]"},
                    *(
                        [{"name": "parent_id", "type": "UUID", "references": f"table_{i - 1}.id"}]
                        if i
                        else []
                    ),
                ],
                "indexes": [
                    {"name": f"idx_t{i}_status", "columns": ["status", "created_at DESC"]},
                    {"name": f"idx_t{i}_tags", "columns": ["tags"], "method": "gin"},
                ],
            }
        )
    return {"schema_version": "001", "description": "bench", "tables": tables}


def _blueprint(n: int) -> dict[str, Any]:
    if realistic_blueprint is not None:
        return realistic_blueprint(n)
    return _simple_blueprint(n)


def _envelope(payload: dict[str, Any]) -> dict[str, Any]:
    return {"meta": {"tenant_id": "t_bench"}, "payload": payload}


def _time(action: Callable[[], object], repeat: int, *, cold: bool) -> list[float]:
    samples = []
    for _ in range(repeat):
        if cold:
            check_expression.cache_clear()
            check_type.cache_clear()
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return samples


def _rejected(envelope: dict[str, Any]) -> Callable[[], object]:
    def run() -> object:
        try:
            validate_envelope(envelope)
        except BlueprintInvalid as invalid:
            return invalid.issues
        raise AssertionError("the hostile payload was accepted")

    return run


def _report(label: str, samples: list[float], note: str = "") -> None:
    median = statistics.median(samples) * 1000
    best = min(samples) * 1000
    print(f"{label:<58} median {median:8.1f} ms   best {best:8.1f} ms   n={len(samples)} {note}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    n = 100 if args.smoke else 1_000
    repeat = 1 if args.smoke else args.repeat

    envelope = _envelope(_blueprint(n))
    accepted = validate_envelope(envelope)
    tables = len(accepted.blueprint.tables)
    columns = sum(len(t.columns) for t in accepted.blueprint.tables)
    print(
        f"blueprint: {tables} tables, {columns} columns after normalization, "
        f"canonical JSON {len(accepted.canonical_json) / 1e6:.2f} MB"
    )
    _report(
        f"validate + normalize, {n} tables, cold caches",
        _time(lambda: validate_envelope(envelope), repeat, cold=True),
    )
    _report(
        f"validate + normalize, {n} tables, warm caches",
        _time(lambda: validate_envelope(envelope), repeat, cold=False),
    )

    big_description = copy.deepcopy(envelope)
    big_description["payload"]["description"] = "x" * 5_000_000
    _report(
        "reject a 5 MB description (one field)",
        _time(_rejected(big_description), repeat, cold=True),
    )

    # Past the payload limit in many fields each within its own limit: only the size refuses it.
    commented = MAX_PAYLOAD_BYTES // 9_000 + 100
    comments = _envelope(
        {
            "schema_version": "001",
            "description": "more than the limit, in comments",
            "tables": [
                {
                    "name": f"t{i}",
                    "comment": "c" * 9_000,
                    "columns": [{"name": "a", "type": "TEXT"}],
                }
                for i in range(commented)
            ],
        }
    )
    _report(
        f"reject a {commented * 9_000 / 1e6:.0f} MB payload "
        f"({commented:,} tables x 9,000-character comments)",
        _time(_rejected(comments), repeat, cold=True),
    )

    many = _envelope(
        {
            "schema_version": "001",
            "description": "too many tables",
            "tables": [{"name": f"t{i}", "columns": []} for i in range(MAX_TABLES + 1)],
        }
    )
    _report(f"reject a {MAX_TABLES + 1:,}-table payload", _time(_rejected(many), repeat, cold=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
