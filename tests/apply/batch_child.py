"""Run the apply of ``batch_setup`` in batches and die by SIGKILL part way.

``python -m tests.apply.batch_child URL BATCH WHEN``: kill the process in batch BATCH (2 or
more), ``before`` its first statement (the batches before it committed) or ``verified``,
once its statements have run and been verified but before its mark and its commit (the
worst moment: the catalog in the transaction is ahead of the record).
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

import psycopg

from schemabuilder.engine.apply import apply_plan
from schemabuilder.engine.apply import batches as runner
from tests.apply.batch_setup import blueprint, request_for, reviewed_plan


def main(url: str, batch: int, when: str) -> None:
    real_run, real_verify = runner._run, runner._verify

    def run(conn: psycopg.Connection[Any], request: Any, b: runner.Batch, retries: Any) -> None:
        if b.batch == batch and when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        real_run(conn, request, b, retries)

    def verify(conn: psycopg.Connection[Any], *args: Any, **kwargs: Any) -> None:
        real_verify(conn, *args, **kwargs)
        if args[3].batch == batch and when == "verified":
            os.kill(os.getpid(), signal.SIGKILL)

    runner._run, runner._verify = run, verify  # type: ignore[assignment]
    bp = blueprint()
    with psycopg.connect(url, autocommit=True) as conn:
        p, reviewed = reviewed_plan(conn, bp)
        apply_plan(conn, bp, request_for(p), reviewed=reviewed)
    sys.exit(3)  # never reached when the batch exists


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
