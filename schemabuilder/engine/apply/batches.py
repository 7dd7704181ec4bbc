"""The further transactions of a first stage split in batches (``engine.batches``).

The first batch runs as a small plan's one transaction does (``execute``) and writes the
marker with every further batch pending, its statements included (``phase1_batches``): a
worker that takes over after a crash needs nothing but the marker and the blueprint. Then,
under the target's session advisory lock, each pending batch runs in a transaction of its
own, with the change's ``lock_timeout`` and ``statement_timeout`` and its lock retries, is
verified for its tables against the desired state (``verification.verify``, their grants
and triggers), and marks itself done in the marker inside that same transaction: after a
crash, a batch is either done and marked, or not done at all, and it is never run twice.

A batch that fails (a statement the server rejects, a lock not granted after its retries, a
residue) rolls back whole, and the marker says ``failed`` with the batch: the batches before
it stay committed, and the next plan makes what is missing, as after a failed second-stage
step (``BatchFailed`` is a ``StageTwoFailed``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import psycopg
from psycopg import errors, sql

from schemabuilder.engine.apply.errors import BatchFailed, StatementFailed, VerificationFailed
from schemabuilder.engine.apply.lock_retry import LockRetries, OnRetry
from schemabuilder.engine.apply.marker import DONE, FAILED, PENDING, update_batches
from schemabuilder.engine.apply.review import ApplyRequest
from schemabuilder.engine.apply.schema_objects import grants_residue
from schemabuilder.engine.apply.verification import verify
from schemabuilder.engine.catalog.snapshot import Snapshot
from schemabuilder.engine.contract.normalize import NormalizedBlueprint
from schemabuilder.engine.diff.phases import LockMode, Phase, Statement
from schemabuilder.engine.safe_errors import safe_message
from schemabuilder.engine.triggers import TRIGGER_PHASES, trigger_residue


@dataclass(frozen=True)
class Batch:
    """One further transaction of a first stage, as the marker lists it."""

    batch: int
    indexes: tuple[int, ...]  # the statements' places in the plan
    statements: tuple[Statement, ...]
    status: str = PENDING  # pending | done | failed
    ms: float | None = None

    @property
    def tables(self) -> set[str]:
        """The tables the batch creates."""
        return {st.table for st in self.statements if st.table}

    def to_json(self) -> dict[str, Any]:
        """The marker's form."""
        return {
            "batch": self.batch,
            "status": self.status,
            "ms": self.ms,
            "tables": sorted(self.tables),
            "statements": [
                {
                    "index": i,
                    "sql": st.sql,
                    "table": st.table,
                    "phase": str(st.phase),
                    "lock": str(st.lock),
                    "timeout_ms": st.statement_timeout_ms,
                }
                for i, st in zip(self.indexes, self.statements, strict=True)
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Batch:
        listed = list(data.get("statements", []))
        return cls(
            batch=int(data["batch"]),
            indexes=tuple(int(s["index"]) for s in listed),
            statements=tuple(
                Statement(
                    sql=str(s["sql"]),
                    phase=Phase(s["phase"]),
                    table=str(s.get("table", "")),
                    reason="",
                    lock=LockMode(s.get("lock", LockMode.ACCESS_EXCLUSIVE)),
                    statement_timeout_ms=s.get("timeout_ms"),
                    batch=int(data["batch"]),
                )
                for s in listed
            ),
            status=str(data.get("status", PENDING)),
            ms=data.get("ms"),
        )


def batches_of(statements: Iterable[Statement]) -> list[Batch]:
    """The batches after the first of a plan's statements, all pending ([] when not split)."""
    found: dict[int, list[tuple[int, Statement]]] = {}
    for i, st in enumerate(statements):
        if st.stage == 1 and st.batch > 1:
            found.setdefault(st.batch, []).append((i, st))
    return [
        Batch(n, tuple(i for i, _ in found[n]), tuple(st for _, st in found[n]))
        for n in sorted(found)
    ]


def later_tables(batches: Iterable[Batch]) -> set[str]:
    """The tables created by batches after the first."""
    return {name for b in batches for name in b.tables}


def verified_blueprint(
    bp: NormalizedBlueprint, tables: set[str], *, last: bool
) -> NormalizedBlueprint:
    """``bp`` as a batch is verified against: its tables only, and the default privileges
    only in the last batch (they are set there)."""
    update: dict[str, Any] = {"tables": tuple(t for t in bp.tables if t.name in tables)}
    if not last:
        update["default_privileges"] = None
    return bp.model_copy(update=update)


BatchProgress = Callable[[Batch], None]


def run_batches(
    conn: psycopg.Connection[Any],
    bp: NormalizedBlueprint,
    request: ApplyRequest,
    *,
    marker_id: int,
    batches: Sequence[Batch],
    desired: Snapshot,
    on_batch: BatchProgress | None = None,
    on_lock_retry: OnRetry | None = None,
) -> list[Batch]:
    """Run the pending ``batches`` in order (see the module doc); the batches as they end up.
    Raises BatchFailed or VerificationFailed for the batch that failed, which is rolled back;
    those before it stay committed."""
    conn.autocommit = True
    done = list(batches)
    last = max((b.batch for b in done), default=0)
    for n, batch in enumerate(done):
        if batch.status == DONE:
            continue
        began = time.perf_counter()
        try:
            with (
                LockRetries(conn, request.lock_policy(), on_lock_retry) as retries,
                conn.transaction(),
            ):
                _run(conn, request, batch, retries)
                _verify(conn, bp, request.schema, desired, batch, last=batch.batch == last)
                ms = round((time.perf_counter() - began) * 1000, 1)
                done[n] = replace(batch, status=DONE, ms=ms)
                # Inside the batch's transaction: the mark commits with the batch, or neither.
                update_batches(conn, marker_id, [b.to_json() for b in done])
        except (errors.LockNotAvailable, errors.DeadlockDetected) as exc:
            where = f"Batch {batch.batch} of {last} could not take its locks"
            message = safe_message(exc, where=where)
            failed = BatchFailed(message, batch.indexes[0], batch.statements[0].sql)
            _mark_failed(conn, marker_id, done, n, failed)
            raise failed from exc
        except StatementFailed as exc:
            failed = BatchFailed(str(exc), exc.index, exc.statement)
            _mark_failed(conn, marker_id, done, n, failed)
            raise failed from exc
        except VerificationFailed as exc:
            _mark_failed(conn, marker_id, done, n, exc)
            raise
        if on_batch is not None:
            on_batch(done[n])
    return done


def _mark_failed(
    conn: psycopg.Connection[Any], marker_id: int, done: list[Batch], n: int, failed: Exception
) -> None:
    """The marker says ``failed``, with the batch (its transaction is rolled back by now)."""
    done[n] = replace(done[n], status=FAILED)
    update_batches(conn, marker_id, [b.to_json() for b in done], status=FAILED, error=str(failed))


def _run(
    conn: psycopg.Connection[Any], request: ApplyRequest, batch: Batch, retries: LockRetries
) -> None:
    conn.execute(
        sql.SQL(
            "SET LOCAL lock_timeout = {}; SET LOCAL statement_timeout = {}; "
            "SET LOCAL search_path TO {}"
        ).format(
            sql.Literal(f"{request.lock_timeout_ms}ms"),
            sql.Literal(f"{request.statement_timeout_ms}ms"),
            sql.Identifier(request.schema),
        )
    )
    conn.execute("SELECT pg_advisory_xact_lock(%s)", [request.lock_key])
    total = len(batch.statements)
    for k, statement in enumerate(batch.statements):
        timeout = statement.statement_timeout_ms
        if timeout:
            _timeout(conn, max(timeout, request.statement_timeout_ms))
        where = f"Batch {batch.batch}, statement {k + 1} of {total} failed"
        try:
            retries.statement(statement, where=where)
        except (errors.LockNotAvailable, errors.DeadlockDetected):
            raise
        except psycopg.Error as exc:
            raise StatementFailed(
                safe_message(exc, where=where), batch.indexes[k], statement.sql
            ) from exc
        if timeout:
            _timeout(conn, request.statement_timeout_ms)


def _timeout(conn: psycopg.Connection[Any], ms: int) -> None:
    conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(sql.Literal(f"{ms}ms")))


def _verify(
    conn: psycopg.Connection[Any],
    bp: NormalizedBlueprint,
    schema: str,
    desired: Snapshot,
    batch: Batch,
    *,
    last: bool,
) -> None:
    tables = batch.tables
    want = desired.restricted(tables)
    residue, _ = verify(
        conn,
        schema,
        desired=want,
        statements=batch.statements,
        dropped=(),
        scope=set(tables),
        before={},
    )
    own = verified_blueprint(bp, tables, last=last)
    if not residue and any(st.phase in TRIGGER_PHASES for st in batch.statements):
        residue = trigger_residue(conn, own, schema, want)
    residue += grants_residue(conn, own, schema, want)
    if residue:
        raise VerificationFailed(residue)
