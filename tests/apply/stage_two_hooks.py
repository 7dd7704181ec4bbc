"""What happens just before each step of an online change's second stage reaches the server,
for the workflow tests: a step runs in autocommit, outside any transaction, so a statement
run while the connection is idle is one (the first stage's run inside its transaction)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from schemabuilder.engine.apply import runner

Hook = Callable[[psycopg.Connection[Any]], None]


class WorkerDied(BaseException):
    """Stands for the worker's death: nothing in the app catches it."""


def before_each_step(monkeypatch: pytest.MonkeyPatch, hook: Hook) -> Callable[[], None]:
    """Run ``hook`` with the apply's connection before each second-stage step; the function
    that puts the runner back."""
    real = runner.run_statement

    def run(conn: psycopg.Connection[Any], statement: str) -> None:
        if conn.info.transaction_status is psycopg.pq.TransactionStatus.IDLE:
            hook(conn)
        real(conn, statement)

    monkeypatch.setattr(runner, "run_statement", run)
    return lambda: monkeypatch.setattr(runner, "run_statement", real)


def die(conn: psycopg.Connection[Any]) -> None:
    raise WorkerDied


def duplicate_totals(target_url: str) -> Hook:
    """The first stage has committed: another client writes two equal totals now."""

    def insert(conn: psycopg.Connection[Any]) -> None:
        with psycopg.connect(target_url, autocommit=True) as other:
            other.execute(
                "INSERT INTO public.orders (tenant_id, total) "
                "SELECT gen_random_uuid(), 7 FROM generate_series(1, 2)"
            )

    return insert
