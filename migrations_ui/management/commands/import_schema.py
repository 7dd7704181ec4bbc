"""Write an existing schema as a blueprint (JSON on stdout); list what it leaves out on stderr.

Reads only: everything runs in one READ ONLY transaction. Planned against the same database
with its tables managed, the blueprint is an empty plan. Exit 0 when the blueprint says
everything the schema holds, 4 when something was left out (each object is listed), 1 on an
error (no connection, no table).
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import psycopg
from django.core.management.base import BaseCommand, CommandError, CommandParser

from schemabuilder.engine import ImportResult, LeftOut, import_schema, safe_message

EXIT_COMPLETE, EXIT_LEFT_OUT = 0, 4
SHOWN_PER_KIND = 5


def summary(left_out: Sequence[LeftOut]) -> str:
    """``left out: 2 triggers (audit_trg on accounts, ...), 1 view (active_users)``."""
    by_kind: defaultdict[str, list[str]] = defaultdict(list)
    for item in left_out:
        by_kind[item.kind].append(
            item.name
            if item.table is None or item.table == item.name
            else f"{item.name} on {item.table}"
        )
    parts = []
    for kind, names in by_kind.items():
        shown = ", ".join(names[:SHOWN_PER_KIND]) + (", ..." if len(names) > SHOWN_PER_KIND else "")
        parts.append(f"{len(names)} {kind}{'' if len(names) == 1 else 's'} ({shown})")
    return "left out: " + ", ".join(parts)


def envelope(payload: dict[str, Any], tenant: str) -> dict[str, Any]:
    """The payload in the seed's envelope, for ``submit`` or ``POST /api/v1/proposals``."""
    return {
        "meta": {"workflow_name": "WF106", "trigger_source": "cli", "tenant_id": tenant},
        "subject": {"tenant_id": tenant},
        "payload": payload,
    }


class Command(BaseCommand):
    help = (
        "Write the tables of an existing schema as a blueprint (stdout) and list on stderr "
        "what it cannot say. Exit 0: everything said; 4: something left out."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database-url", metavar="URL", required=True)
        parser.add_argument("--schema", default="public")
        parser.add_argument(
            "--tables", default=None, help="Comma-separated tables to import (default: all)."
        )
        parser.add_argument(
            "--fence",
            default=None,
            metavar="COLUMN|none",
            help="The tenant fence column; 'none' for no fence (default: tenant_id when every "
            "table with row level security has it).",
        )
        parser.add_argument("--format", choices=["payload", "envelope"], default="payload")
        parser.add_argument("--tenant", default=None, help="The envelope's tenant id.")

    def handle(
        self,
        *args: Any,
        database_url: str,
        schema: str,
        tables: str | None,
        fence: str | None,
        format: str,
        tenant: str | None,
        **options: Any,
    ) -> None:
        if format == "envelope" and not tenant:
            raise CommandError("--format envelope needs --tenant: an envelope is for one tenant.")
        only = [t.strip() for t in tables.split(",") if t.strip()] if tables else None
        chosen: str | None = "auto" if fence is None else None if fence == "none" else fence
        try:
            with (
                psycopg.connect(database_url, connect_timeout=5, autocommit=True) as conn,
                conn.transaction(),
            ):
                conn.execute("SET TRANSACTION READ ONLY")
                result = import_schema(conn, schema, tables=only, fence=chosen)
        except psycopg.Error as exc:
            raise CommandError(safe_message(exc, where="Cannot import")) from exc
        self._report(result, only)
        if not result.payload["tables"]:
            raise CommandError(
                f"Nothing to import: schema {schema} has no table a blueprint can say."
            )
        body = (
            envelope(result.payload, tenant) if format == "envelope" and tenant else result.payload
        )
        self.stdout.write(json.dumps(body, indent=2, ensure_ascii=False))
        sys.exit(EXIT_COMPLETE if result.complete else EXIT_LEFT_OUT)

    def _report(self, result: ImportResult, only: list[str] | None) -> None:
        imported = [t["name"] for t in result.payload["tables"]]
        self.stderr.write(f"imported {len(imported)} table{'' if len(imported) == 1 else 's'}")
        for note in result.notes:
            self.stderr.write(note)
        if only is not None:
            missing = sorted(set(only) - set(imported) - {o.name for o in result.left_out})
            if missing:
                self.stderr.write(f"no such table: {', '.join(missing)}")
        if not result.left_out:
            return
        self.stderr.write(summary(result.left_out))
        for item in result.left_out:
            if item.why:
                where = f" on {item.table}" if item.table and item.table != item.name else ""
                self.stderr.write(f"  {item.kind} {item.name}{where}: {item.why}")
