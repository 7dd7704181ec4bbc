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

from schemabuilder.engine.apply import apply_plan, runner, stage_two
from tests.apply.online_setup import blueprint, request_for, reviewed_plan


def main(url: str, crash: int) -> None:
    ran = 0
    real = runner.run_statement

    def run_then_maybe_die(conn: psycopg.Connection[Any], statement: str) -> None:
        nonlocal ran
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            real(conn, statement)  # a statement of the first stage's transaction
            return
        if crash == 0:
            os.kill(os.getpid(), signal.SIGKILL)
        real(conn, statement)
        ran += 1
        if ran == crash:
            os.kill(os.getpid(), signal.SIGKILL)

    runner.run_statement = run_then_maybe_die
    assert stage_two.runner is runner
    bp = blueprint()
    with psycopg.connect(url, autocommit=True) as conn:
        p, reviewed = reviewed_plan(conn, bp)
        apply_plan(conn, bp, request_for(p), reviewed=reviewed)
    sys.exit(3)  # never reached when the crash point is inside the second stage


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
