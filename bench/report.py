"""The plan benchmark's results as a Markdown table, and that table kept in bench/README.md."""

from __future__ import annotations

import dataclasses
import os
import platform
import re
import statistics
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.baseline import BaselineSample
from bench.plan_worker import EngineSample

README = Path(__file__).resolve().parent / "README.md"
BEGIN = "<!-- plan-bench:begin -->"
END = "<!-- plan-bench:end -->"

# The targets the engine is held to (see bench/README.md).
TARGET_N = 1000
TARGET_SPEEDUP = 5.0
TARGET_RSS_MIB = 200.0


@dataclass
class SizeResult:
    """Every sample taken at one size N."""

    n: int
    tables_changed: int
    empty: list[EngineSample] = field(default_factory=list)
    warm: list[EngineSample] = field(default_factory=list)
    cold: list[EngineSample] = field(default_factory=list)
    baseline: list[BaselineSample] = field(default_factory=list)

    def peak_plan_rss_mib(self) -> float | None:
        samples = [*self.empty, *self.warm, *self.cold]
        return max(s.maxrss_kib for s in samples) / 1024 if samples else None

    def speedup(self) -> float | None:
        """Median shadow + migra time over the median warm incremental plan time."""
        warm = _median([s.seconds for s in self.warm])
        base = _median([s.total_seconds for s in self.baseline])
        return base / warm if warm and base else None


@dataclass(frozen=True)
class Machine:
    """Where the numbers were taken."""

    cores: int
    cpu: str
    date: str
    postgres: str
    python: str
    load: float  # 1-minute load average at the start: other work on the machine skews times
    load_end: float | None = None  # and at the end (set by finish())
    commit: str = ""  # the code measured: HEAD, "+" when the work tree differs from it

    @classmethod
    def here(cls, postgres: str) -> Machine:
        return cls(
            cores=os.cpu_count() or 0,
            cpu=_cpu_model(),
            date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            postgres=postgres,
            python=platform.python_version(),
            load=os.getloadavg()[0],
            commit=_commit(),
        )

    def line(self) -> str:
        return (
            f"{self.date} at commit {self.commit or 'unknown'}; "
            f"{self.cores} cores ({self.cpu}); {self.postgres}; "
            f"Python {self.python}; 1-minute load average {self.load:.2f} at the start"
            + ("" if self.load_end is None else f", {self.load_end:.2f} at the end")
        )

    def finish(self) -> Machine:
        """This machine with the load average at the end of the run."""
        return dataclasses.replace(self, load_end=os.getloadavg()[0])


def _commit() -> str:
    root = README.parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "schemabuilder"],
            cwd=root,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return ""
    return head + ("+" if dirty else "")


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown CPU"
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else "unknown CPU"


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _secs(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def _mib(kib: float | None) -> str:
    return "n/a" if kib is None else f"{kib / 1024:.0f} MiB"


def table(results: Sequence[SizeResult], repeat: int) -> str:
    """The Markdown table: medians of ``repeat`` runs, peak RSS as the maximum."""
    head = (
        "| N | plan from empty | plan v1 -> v2, warm cache | plan v1 -> v2, cold cache "
        "| shadow build | migra | shadow + migra | speed-up (warm) "
        "| peak RSS, plan | peak RSS, migra |"
    )
    rows = [head, "|" + "---|" * 10]
    for r in results:
        speedup = r.speedup()
        migra_rss = max((b.migra_maxrss_kib for b in r.baseline), default=None)
        plan_rss = r.peak_plan_rss_mib()
        rows.append(
            "| "
            + " | ".join(
                [
                    str(r.n),
                    _secs(_median([s.seconds for s in r.empty])),
                    _secs(_median([s.seconds for s in r.warm])),
                    _secs(_median([s.seconds for s in r.cold])),
                    _secs(_median([b.shadow_seconds for b in r.baseline])),
                    _secs(_median([b.migra_seconds for b in r.baseline])),
                    _secs(_median([b.total_seconds for b in r.baseline])),
                    "n/a" if speedup is None else f"{speedup:.1f}x",
                    "n/a" if plan_rss is None else f"{plan_rss:.0f} MiB",
                    _mib(migra_rss),
                ]
            )
            + " |"
        )
    return "\n".join(rows) + f"\n\nMedians of {repeat} run(s); peak RSS is the largest seen."


def verdicts(results: Sequence[SizeResult]) -> list[str]:
    """One line per target at N = TARGET_N: met, missed, or not measured."""
    at = next((r for r in results if r.n == TARGET_N), None)
    if at is None:
        return [f"Targets are judged at N = {TARGET_N}, which this run did not measure."]
    speedup = at.speedup()
    rss = at.peak_plan_rss_mib()
    best_warm = min((s.seconds for s in at.warm), default=None)
    best_base = min((b.total_seconds for b in at.baseline), default=None)
    best = (
        f" Best runs, less skewed by other work on the machine: warm plan "
        f"{_secs(best_warm)}, shadow + migra {_secs(best_base)} "
        f"({best_base / best_warm:.1f}x)."
        if best_warm and best_base
        else ""
    )
    return [
        _verdict(
            f"incremental plan >= {TARGET_SPEEDUP:.0f}x faster than shadow + migra",
            None if speedup is None else speedup >= TARGET_SPEEDUP,
            "n/a" if speedup is None else f"{speedup:.1f}x",
            best,
        ),
        _verdict(
            f"peak RSS of planning < {TARGET_RSS_MIB:.0f} MiB",
            None if rss is None else rss < TARGET_RSS_MIB,
            "n/a" if rss is None else f"{rss:.0f} MiB",
        ),
    ]


def _verdict(what: str, met: bool | None, value: str, more: str = "") -> str:
    word = "not measured" if met is None else ("met" if met else "MISSED")
    return f"- N = {TARGET_N}, {what}: **{word}** ({value}).{more}"


def checks(results: Sequence[SizeResult]) -> list[str]:
    """What each side found, so a fast but wrong plan cannot pass unnoticed."""
    lines = []
    for r in results:
        warm = r.warm[-1] if r.warm else None
        cold = r.cold[-1] if r.cold else None
        migra = r.baseline[-1].migra_statements if r.baseline else None
        lines.append(
            f"- N = {r.n}: v2 changes {r.tables_changed} tables; the warm plan materialized "
            f"{warm.materialized if warm else 'n/a'} tables (cold: "
            f"{cold.materialized if cold else 'n/a'}) and planned "
            f"{warm.statements if warm else 'n/a'} statements; migra printed {migra}."
        )
    return lines


def section(results: Sequence[SizeResult], repeat: int, machine: Machine, notes: str) -> str:
    """The README block: machine, table, verdicts, what each side found, notes."""
    parts = [
        f"Measured {machine.line()}.",
        "",
        table(results, repeat),
        "",
        *verdicts(results),
        "",
        *checks(results),
    ]
    if notes:
        parts += ["", notes]
    return "\n".join(parts)


def write_readme(block: str, readme: Path = README) -> None:
    """Replace what stands between the plan-bench markers in ``readme`` with ``block``."""
    text = readme.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    readme.write_text(text[:start] + "\n" + block + "\n" + text[end:])
