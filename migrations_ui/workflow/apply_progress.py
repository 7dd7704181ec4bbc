"""What the proposal page and the timeline show of an apply while it runs, stage by stage.

The engine reports each first-stage statement (``on_progress``) and, for an online change, the
first stage's commit and each second-stage step, done or failed (``on_stage``, see
``engine.apply.progress``). ``ApplyProgress`` is both callbacks: it keeps
``proposal.timings["progress"]``, which the page's status region polls, and writes the
stages' audit events, which its timeline shows.

``progress`` of a change in one transaction is ``{"done": n, "total": m}`` (statements), as it
always was. An online change's adds what the page draws its two stages from::

    {"done": 4, "total": 6,          # first-stage statements and second-stage steps, together
     "at": 5,                        # the plan's index of the statement running now
     "stage": 2,                     # the stage running now
     "stage1": {"done": 3, "total": 3, "ms": 41.2},
     "steps": [{"index": 3, "sql": "CREATE INDEX CONCURRENTLY ...", "status": "done",
                "ms": 812.5}, ...]}   # pending | done | failed

First-stage writes are throttled (twice a second at most: an UPDATE per statement would slow
a 1,000-statement change down for nobody); the commit and each step are written, and each
has its event, as it happens: they are few, and each is slow.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Any

from migrations_ui.models import Proposal
from migrations_ui.workflow import events
from schemabuilder.engine import ApplyOutcome, StageTwoStep, StatementTiming

PROGRESS_EVERY_S = 0.5
SQL_SHOWN = 120  # characters of a step's SQL in its event and on the page


def short_sql(statement: str, limit: int = SQL_SHOWN) -> str:
    """One line of our own planned SQL, cut to ``limit`` characters."""
    line = re.sub(r"\s+", " ", statement).strip()
    return line if len(line) <= limit else line[: limit - 1] + "…"


def step_json(step: StageTwoStep) -> dict[str, Any]:
    """A second-stage step as the result, the API and the page show it."""
    return {
        "index": step.index,
        "sql": step.sql,
        "status": step.status,
        "ms": None if step.ms is None else round(step.ms, 1),
    }


class ApplyProgress:
    """The progress and stage events of one apply of ``proposal`` (see the module doc)."""

    def __init__(self, proposal: Proposal) -> None:
        self.proposal = proposal
        planned = proposal.plan_statements()
        self._planned_total = len(planned)
        self._stage1_indexes = [i for i, st in enumerate(planned) if st.get("stage", 1) == 1]
        self._planned_steps = len(planned) - len(self._stage1_indexes)
        self.online = self._planned_steps > 0
        self.stage = 1
        self.stage1: dict[str, Any] = {"done": 0, "total": len(self._stage1_indexes)}
        self.steps: list[dict[str, Any]] = []
        self._seen: set[int] = set()
        self._at: int | None = 0
        self._last_write = 0.0

    # ---- the engine's callbacks ----------------------------------------------------------

    def __call__(self, done: int, total: int, timing: StatementTiming) -> None:
        """A statement ended: of the first stage, or (reported again here by the engine) a
        second-stage step, which ``stage_two_step`` records."""
        if self.stage == 2:
            return
        if not self.online:
            self._write({"done": done, "total": total}, throttled=done != total)
            return
        self._seen.add(timing.index)
        if total != self._planned_total:  # planned again at apply: the plan's counts are off
            self.stage1["total"] = max(len(self._seen), total - self._planned_steps)
        self.stage1["done"] = len(self._seen)
        self._at = next((i for i in self._stage1_indexes if i > timing.index), None)
        self._write(self.progress(), throttled=self.stage1["done"] < self.stage1["total"])

    def stage_one_committed(
        self, statements: int, ms: float, steps: Sequence[StageTwoStep]
    ) -> None:
        self.online = True
        self.stage = 2
        self.stage1 = {"done": statements, "total": statements, "ms": round(ms, 1)}
        self.steps = [step_json(s) for s in steps]
        self._at = steps[0].index if steps else None
        self._write(self.progress())
        events.record(
            tenant=self.proposal.tenant,
            proposal=self.proposal,
            action="proposal.stage1_committed",
            data={"statements": statements, "ms": round(ms, 1), "steps": len(steps)},
        )

    def stage_two_step(self, step: StageTwoStep, n: int, m: int, error: str = "") -> None:
        self.stage = 2
        while len(self.steps) < m:  # resumed: the first stage's run wrote them, or died first
            self.steps.append({"index": None, "sql": "", "status": "pending", "ms": None})
        if 1 <= n <= len(self.steps):
            self.steps[n - 1] = step_json(step)
        self._at = next(
            (s["index"] for s in self.steps if s["status"] == "pending" and s["index"] is not None),
            None,
        )
        self._write(self.progress())
        data: dict[str, Any] = {
            "step": n,
            "of": m,
            "sql": short_sql(step.sql),
            "status": step.status,
            "ms": None if step.ms is None else round(step.ms, 1),
        }
        if error:
            data["error"] = error[:2000]
        events.record(
            tenant=self.proposal.tenant,
            proposal=self.proposal,
            action="proposal.stage2_step",
            data=data,
        )

    # ---- what is stored --------------------------------------------------------------------

    def resumed(self) -> ApplyProgress:
        """Take over the stages a dead worker's run recorded (its first stage committed)."""
        stored = (
            Proposal.objects.filter(pk=self.proposal.pk).values_list("timings", flat=True).first()
        )
        progress = (stored or {}).get("progress") or {}
        self.online, self.stage = True, 2
        if progress.get("stage1"):
            self.stage1 = dict(progress["stage1"])
        self.steps = [dict(s) for s in progress.get("steps", [])]
        return self

    def progress(self) -> dict[str, Any]:
        steps_done = sum(1 for s in self.steps if s["status"] == "done")
        steps_total = len(self.steps) if self.stage == 2 else self._planned_steps
        return {
            "done": int(self.stage1["done"]) + steps_done,
            "total": int(self.stage1["total"]) + steps_total,
            "at": self._at,
            "stage": self.stage,
            "stage1": dict(self.stage1),
            "steps": [dict(s, sql=short_sql(s["sql"])) for s in self.steps],
        }

    def final_timings(
        self,
        outcome: ApplyOutcome | None = None,
        *,
        steps: Sequence[StageTwoStep] = (),
    ) -> dict[str, Any]:
        """The stages as they ended, for ``proposal.timings`` (an online change's only; an
        atomic change's timings stay as they were). ``steps``: the marker's, when only it
        saw the end (the worker died after the target committed)."""
        if steps:
            self.steps = [step_json(s) for s in steps]
        if not self.online:
            return {}
        if outcome is not None:
            self.steps = [step_json(s) for s in outcome.phase2_steps] or self.steps
            if outcome.timings:
                n = len(outcome.timings)
                self.stage1.update(done=n, total=n)
            if "ms" not in self.stage1 and outcome.phases_ms:
                stage2 = outcome.phases_ms.get("stage2", 0.0)
                self.stage1["ms"] = round(outcome.total_ms - stage2, 1)
        self._at = None
        return {
            "apply_mode": "online",
            "stage1": dict(self.stage1),
            "phase2_steps": [dict(s) for s in self.steps],
            "progress": self.progress(),
        }

    def _write(self, progress: dict[str, Any], *, throttled: bool = False) -> None:
        now = time.monotonic()
        if throttled and now - self._last_write < PROGRESS_EVERY_S:
            return
        self._last_write = now
        Proposal.objects.filter(pk=self.proposal.pk).update(timings={"progress": progress})
