"""What an online apply tells its caller as it goes, stage by stage.

The per-statement ``Progress`` callback of ``apply_plan`` says "statement n of m done"; it
cannot say that the first stage committed, nor that a second-stage step failed. A caller that
follows both stages (the worker, which shows them on the proposal page and in the timeline)
passes a ``StageProgress`` too:

- ``stage_one_committed`` right after the first stage's transaction commits, before the first
  slow step starts (an index build can take minutes: the commit is news on its own);
- ``stage_two_step`` after each second-stage step, done or failed (then with the reason),
  with its place in the stage (``n`` of ``m``, from 1).

A crash-resumed change (``resume_apply``) reports its steps only: its first stage committed
in the run that died.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from schemabuilder.engine.apply.stage_two import StageTwoStep


class StageProgress(Protocol):
    def stage_one_committed(
        self, statements: int, ms: float, steps: Sequence[StageTwoStep]
    ) -> None:
        """The first stage committed: ``statements`` ran in ``ms``; ``steps`` are to run."""

    def stage_two_step(self, step: StageTwoStep, n: int, m: int, error: str = "") -> None:
        """Step ``n`` of ``m`` ended (``step.status``: done or failed, then ``error``)."""


def step_reporter(
    steps: Sequence[StageTwoStep], on_stage: StageProgress | None
) -> Callable[[StageTwoStep], None] | None:
    """``stage_two``'s per-step callback for ``on_stage``, numbering the steps by their place
    in ``steps`` (a plan's statement index is unique in its second stage)."""
    if on_stage is None:
        return None
    place = _places(steps)

    def report(step: StageTwoStep) -> None:
        on_stage.stage_two_step(step, place.get(step.index, 0), len(steps))

    return report


def report_failed(
    steps: Sequence[StageTwoStep],
    on_stage: StageProgress | None,
    *,
    index: int,
    statement: str,
    error: str,
) -> None:
    """The step of plan index ``index`` failed with ``error`` (our own message, made safe)."""
    if on_stage is None:
        return
    step = StageTwoStep(index, statement, "failed")
    on_stage.stage_two_step(step, _places(steps).get(index, 0), len(steps), error)


def _places(steps: Sequence[StageTwoStep]) -> dict[int, int]:
    """Each step's place in the stage (from 1), by its plan index."""
    return {s.index: n for n, s in enumerate(steps, start=1)}
