"""Run the online apply of ``online_setup`` and die by SIGKILL in its second stage.

``python -m tests.apply.online_child URL CRASH``: with CRASH = 0 the process kills itself right
after the first stage commits, before any step; with CRASH = k it kills itself right after the
k-th step's statement has run, before the step is marked done in the marker (the worst moment:
the catalog is ahead of the record).
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

import psycopg

from schemabuilder.engine.apply import apply_plan, stage_two
from tests.apply.online_setup import blueprint, request_for, reviewed_plan


def main(url: str, crash: int) -> None:
    ran = 0
    real = stage_two.run_statement

    def run_then_maybe_die(conn: psycopg.Connection[Any], statement: str) -> None:
        nonlocal ran
        if crash == 0:
            os.kill(os.getpid(), signal.SIGKILL)
        real(conn, statement)
        ran += 1
        if ran == crash:
            os.kill(os.getpid(), signal.SIGKILL)

    stage_two.run_statement = run_then_maybe_die
    bp = blueprint()
    with psycopg.connect(url, autocommit=True) as conn:
        p, reviewed = reviewed_plan(conn, bp)
        apply_plan(conn, bp, request_for(p), reviewed=reviewed)
    sys.exit(3)  # never reached when the crash point is inside the second stage


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
