"""The one place the benchmarks call the engine: everything else goes through these functions.

``render_sql`` is the engine's ``render_ddl`` joined into a script. The plan hooks are what
``plan_worker`` times; until the engine's ``plan()`` exists they raise ``EngineNotReady`` and
the report leaves the engine's columns empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from bench.schemas import Payload

# The tenant's Postgres schema in every benchmark database: one name, so migra's --schema and
# the engine's target agree.
SCHEMA = "tenant_bench"


class EngineNotReady(RuntimeError):
    """The engine does not have this part yet: the benchmark skips what needs it."""


@dataclass(frozen=True)
class PlanResult:
    """What a timed plan produced, for the report's sanity columns."""

    statements: int


def render_sql(payload: Payload, schema: str = SCHEMA) -> str:
    """The whole DDL of ``payload`` in ``schema`` as one psql script (schema created first)."""
    statements = _render_statements(payload, schema)
    body = "\n".join(s.rstrip().rstrip(";") + ";" for s in statements)
    return f'CREATE SCHEMA IF NOT EXISTS "{schema}";\n{body}\n'


def _render_statements(payload: Payload, schema: str) -> list[str]:
    from schemabuilder.engine import render_ddl, validate_payload

    return render_ddl(validate_payload(payload), schema)


def create_schema(target_url: str, schema: str = SCHEMA) -> None:
    """An empty tenant schema: the target of a first plan."""
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))


def apply(target_url: str, script: Path) -> None:
    """Bring the target to the state of ``script`` (the rendered DDL of a blueprint).

    psql runs the very statements the engine's apply would, in one transaction; what the
    catalog holds afterwards is the same.
    """
    from bench import pg

    pg.psql_file(target_url, script)


def plan_ready() -> bool:
    """True once the engine exports ``plan``."""
    import schemabuilder.engine as engine

    return hasattr(engine, "plan")


def load_payload(path: Path) -> Payload:
    import json

    payload: Payload = json.loads(path.read_text())
    return payload


# --- plan hooks: filled in when the engine's plan API lands -----------------------------------


def prepare_plan(payload: Payload) -> Any:
    """Untimed work before a plan: what the app has already done when it calls plan()
    (validate and normalize the blueprint)."""
    from schemabuilder.engine import validate_payload

    return validate_payload(payload)


def plan_from_empty(target_url: str, desired: Any, schema: str = SCHEMA) -> PlanResult:
    """Plan ``desired`` against an empty target schema."""
    raise EngineNotReady("schemabuilder.engine has no plan() yet")


def warm_cache(target_url: str, applied: Any, schema: str = SCHEMA) -> Any:
    """The canonical-form cache as the app holds it right after applying ``applied``."""
    raise EngineNotReady("schemabuilder.engine has no plan() yet")


def plan_incremental(
    target_url: str, desired: Any, cache: Any | None, schema: str = SCHEMA
) -> PlanResult:
    """Plan ``desired`` against the live target, with ``cache`` warm or (None) cold."""
    raise EngineNotReady("schemabuilder.engine has no plan() yet")
