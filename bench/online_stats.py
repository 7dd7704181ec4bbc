"""The online benchmark's arithmetic, apart from any server: percentiles of the writers'
latencies, what one window of the run says, and the markdown table.

A writer's operation is a ``(start, end)`` pair of monotonic-clock seconds. An apply's window
is ``[begin, end)``; an operation belongs to it when the two overlap (a write the apply
blocked started before it and ends after it, and its wait is the point), and counts as
*completed during* it when it ended inside it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Op = tuple[float, float]


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation between the closest ranks (the
    usual definition, numpy's default); NaN for no values."""
    if not 0 <= q <= 100:
        raise ValueError(f"q must be within 0..100, not {q}")
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Window:
    """The writers' side of one window of the run."""

    seconds: float
    completed: int  # operations that ended inside the window
    overlapping: int  # operations that overlap it (the latencies below are theirs)
    max_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        """Completed operations per second (NaN for an empty window)."""
        return self.completed / self.seconds if self.seconds > 0 else math.nan


def window(ops: Sequence[Op], begin: float, end: float) -> Window:
    """What ``ops`` did between ``begin`` and ``end``."""
    inside = [(s, e) for s, e in ops if s < end and e > begin]
    latencies = [(e - s) * 1000 for s, e in inside]
    return Window(
        seconds=max(end - begin, 0.0),
        completed=sum(1 for _, e in ops if begin <= e < end),
        overlapping=len(inside),
        max_ms=max(latencies) if latencies else math.nan,
        p99_ms=percentile(latencies, 99),
    )


def throughput_pct(during: Window, before: Window) -> float:
    """Throughput during the apply as a percentage of the rate before it."""
    if not before.rate or math.isnan(before.rate) or math.isnan(during.rate):
        return math.nan
    return 100 * during.rate / before.rate


def _ms(value: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def _seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


COLUMNS = (
    "change",
    "mode",
    "apply",
    "writers' max",
    "writers' p99",
    "ops during",
    "throughput during vs before",
    "before: p99, rate",
    "stage 2 steps",
)


def markdown(rows: Sequence[dict[str, Any]]) -> str:
    """One line per change and mode, as ``results_row`` gives them; a skipped or failed cell
    says why instead of its numbers."""
    lines = [
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for r in rows:
        if r.get("error"):
            cells = [r["change"], r["mode"], f"failed: {r['error']}"] + [""] * (len(COLUMNS) - 3)
        else:
            pct = r["throughput_pct"]
            cells = [
                r["change"],
                r["mode"],
                _seconds(r["apply_seconds"]),
                _ms(r["during"]["max_ms"]),
                _ms(r["during"]["p99_ms"]),
                str(r["during"]["completed"]),
                "-" if math.isnan(pct) else f"{pct:.0f} %",
                f"{_ms(r['before']['p99_ms'])}, {r['before']['rate']:.0f}/s",
                str(r.get("stage2_steps", 0)),
            ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def results_row(
    change: str,
    mode: str,
    ops: Sequence[Op],
    before: tuple[float, float],
    apply: tuple[float, float],
    stage2_steps: int = 0,
) -> dict[str, Any]:
    """The JSON row of one change in one mode: the before window, the apply's window, and
    the ratio of their rates."""
    b = window(ops, *before)
    d = window(ops, *apply)
    return {
        "change": change,
        "mode": mode,
        "apply_seconds": apply[1] - apply[0],
        "before": _window_json(b),
        "during": _window_json(d),
        "throughput_pct": throughput_pct(d, b),
        "stage2_steps": stage2_steps,
    }


def _window_json(w: Window) -> dict[str, Any]:
    return {
        "seconds": w.seconds,
        "completed": w.completed,
        "overlapping": w.overlapping,
        "rate": w.rate,
        "max_ms": w.max_ms,
        "p99_ms": w.p99_ms,
    }
