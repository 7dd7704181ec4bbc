"""The one place an apply's planned statements reach the server, in both stages: a runner
that retries a statement on lock timeouts and deadlocks can take its place here."""

from __future__ import annotations

from typing import Any

import psycopg


def run_statement(conn: psycopg.Connection[Any], statement: str) -> None:
    """Run one planned statement (inside the first stage's transaction, or on its own in
    autocommit in the second)."""
    conn.execute(statement.encode())
