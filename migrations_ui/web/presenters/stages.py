"""The two stages of an online change as the proposal page draws them.

An online plan's first stage runs in one transaction; its second stage (index builds,
constraint validation, NOT NULL, ...) runs after the commit, online, one step at a time. The
worker keeps where it is in ``timings["progress"]`` (``workflow.apply_progress``): the
first stage's statements done and its time, each second-stage step's status and time. From
that alone (the status poll reads nothing else) this module shapes:

- ``stages_view``: the bar (stage 1, then one segment per step), the two stage lines and
  each step with its duration, while the change runs and once it has ended;
- ``status_line``: the one line beside the status badge ("stage 2 of 2 · step 1 of 2");
- ``statement_states``: each plan statement's state and time for the statements table.

A change in one transaction has no ``stage`` in its progress: ``stages_view`` is None and the
page stays as it was.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

STAGE1_SHARE = 34  # per cent of the bar for the first stage: quick, but it is half the story


@dataclass(frozen=True)
class StepView:
    n: int  # 1.. in the stage
    statement: int | None  # the plan's statement number (1..), for the link to its row
    sql: str
    state: str  # done | running | pending | failed
    ms: float | None


@dataclass(frozen=True)
class StagesView:
    stage: int  # the stage running now (2 once the first committed)
    stage1_state: str  # done | running | pending
    stage1_done: int
    stage1_total: int
    stage1_ms: float | None
    steps: list[StepView]
    steps_done: int
    stage2_state: str  # done | running | pending | failed
    stage2_ms: float | None

    @property
    def stage1_fill(self) -> int:
        """How much of the first stage's segment is filled, in per cent."""
        if self.stage1_state == "done":
            return 100
        return round(100 * self.stage1_done / self.stage1_total) if self.stage1_total else 0

    @property
    def stage1_share(self) -> int:
        return STAGE1_SHARE if self.steps else 100

    @property
    def step_share(self) -> float:
        return round((100 - STAGE1_SHARE) / len(self.steps), 3) if self.steps else 0

    @property
    def failed_step(self) -> StepView | None:
        return next((s for s in self.steps if s.state == "failed"), None)


def stages_view(progress: Mapping[str, Any], *, applying: bool) -> StagesView | None:
    """The stages of ``progress`` (see the module doc); None for a change in one transaction."""
    if "stage" not in progress:
        return None
    stage = int(progress.get("stage") or 1)
    s1 = progress.get("stage1") or {}
    raw_steps: Sequence[Mapping[str, Any]] = progress.get("steps") or []
    running_at = progress.get("at") if applying and stage == 2 else None
    steps = []
    for n, s in enumerate(raw_steps, start=1):
        state = str(s.get("status") or "pending")
        if state == "pending" and applying and stage == 2 and s.get("index") == running_at:
            state = "running"
        index = s.get("index")
        steps.append(
            StepView(
                n=n,
                statement=None if index is None else int(index) + 1,
                sql=str(s.get("sql") or ""),
                state=state,
                ms=s.get("ms"),
            )
        )
    done = sum(1 for s in steps if s.state == "done")
    stage2_state = (
        "failed"
        if any(s.state == "failed" for s in steps)
        else "done"
        if steps and done == len(steps)
        else "running"
        if stage == 2 and applying
        else "pending"
    )
    timed = [float(s.ms) for s in steps if s.ms is not None]
    return StagesView(
        stage=stage,
        stage1_state="done" if stage == 2 else ("running" if applying else "pending"),
        stage1_done=int(s1.get("done") or 0),
        stage1_total=int(s1.get("total") or 0),
        stage1_ms=s1.get("ms"),
        steps=steps,
        steps_done=done,
        stage2_state=stage2_state,
        stage2_ms=round(sum(timed), 1) if timed else None,
    )


def status_line(view: StagesView | None, done: int, total: int) -> str:
    """Where the apply is, in one line beside the status badge."""
    if view is None:
        return f"statement {min(done + 1, total) if total else done + 1} of {total or '?'}"
    if view.stage == 1:
        n = min(view.stage1_done + 1, view.stage1_total or view.stage1_done + 1)
        return f"stage 1 of 2 · statement {n} of {view.stage1_total or '?'}"
    n = min(view.steps_done + 1, len(view.steps))
    return f"stage 2 of 2 · step {n} of {len(view.steps)}"


def statement_states(
    plan: Mapping[str, Any], timings: Mapping[str, Any], *, applying: bool
) -> tuple[dict[int, str], dict[int, float]]:
    """An online change's plan statements (by index): their state while it applies, and the
    second stage's times (the first stage's are in ``timings["statements"]``)."""
    progress = timings.get("progress") or {}
    steps = timings.get("phase2_steps") or progress.get("steps") or []
    ms = {int(s["index"]): float(s["ms"]) for s in steps if s.get("ms") is not None}
    if not applying or "stage" not in progress:
        return {}, ms
    stage = int(progress.get("stage") or 1)
    at = progress.get("at")
    status = {int(s["index"]): str(s.get("status")) for s in steps if s.get("index") is not None}
    states = {}
    for n, st in enumerate(plan.get("statements", [])):
        if int(st.get("stage", 1)) == 1:
            # ``at`` is the next first-stage statement; None once they have all run.
            if stage == 2 or at is None or n < at:
                states[n] = "done"
            else:
                states[n] = "running" if n == at else "pending"
        else:
            state = status.get(n, "pending")
            states[n] = "running" if state == "pending" and stage == 2 and n == at else state
    return states, ms
