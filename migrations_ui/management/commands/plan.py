"""Plan a blueprint against a live database and print it; changes nothing."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import psycopg
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from migrations_ui.targets import target_url
from schemabuilder.engine import (
    BlueprintInvalid,
    json_text,
    plan,
    render_text,
    safe_message,
    validate_envelope,
    validate_payload,
)

EXIT_NOTHING, EXIT_INVALID, EXIT_SAFE, EXIT_DANGEROUS = 0, 1, 2, 3


class Command(BaseCommand):
    help = (
        "Plan FILE (an envelope or a bare payload; - for stdin) against a live schema. "
        "Exit 0: nothing to do; 2: only safe changes; 3: dangerous changes; 1: invalid blueprint."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        where = parser.add_mutually_exclusive_group(required=True)
        where.add_argument(
            "--target", metavar="ALIAS", help="A connection alias (TARGET_<ALIAS>_URL)."
        )
        where.add_argument("--database-url", metavar="URL", help="A PostgreSQL URL.")
        parser.add_argument(
            "--schema", default=None, help="Schema to plan in (default: the target's, or public)."
        )
        parser.add_argument("--format", choices=["text", "json", "sql"], default="text")
        parser.add_argument(
            "--managed",
            default=None,
            help="Comma-separated tables this tool manages there (default: as recorded for the "
            "target, else none besides the blueprint's).",
        )

    def handle(
        self,
        *args: Any,
        file: str,
        target: str | None,
        database_url: str | None,
        schema: str | None,
        format: str,
        managed: str | None,
        **options: Any,
    ) -> None:
        raw = sys.stdin.read() if file == "-" else Path(file).read_text()
        try:
            data = json_text.loads(raw)
        except BlueprintInvalid as exc:
            self._invalid([(i.path, i.message) for i in exc.issues], format)
        except json.JSONDecodeError as exc:
            self._invalid([("(root)", f"Not JSON: {exc}. Fix the syntax and try again.")], format)
        try:
            bp = (
                validate_envelope(data).blueprint
                if isinstance(data, dict) and "payload" in data
                else validate_payload(data)
            )
        except BlueprintInvalid as exc:
            self._invalid([(i.path, i.message) for i in exc.issues], format)

        url = database_url or target_url(target or "")
        if not url:
            raise CommandError(f"TARGET_{(target or '').upper()}_URL is not set.")
        known = self._recorded_target(target) if target else None
        schema = schema or (known.schema_name if known else "public")
        if managed is not None:
            managed_set = {t.strip() for t in managed.split(",") if t.strip()}
        else:
            managed_set = self._recorded_managed(known)

        try:
            with psycopg.connect(url, connect_timeout=5, autocommit=True) as conn:
                result = plan(
                    conn,
                    bp,
                    schema=schema,
                    managed=managed_set,
                    cache=self._cache(),
                    apply_mode=known.apply_mode if known else "online",
                )
        except BlueprintInvalid as exc:
            self._invalid([(i.path, i.message) for i in exc.issues], format)
        except psycopg.OperationalError as exc:
            raise CommandError(safe_message(exc, where="Cannot connect")) from exc

        if format == "json":
            body = result.to_json()
            body.pop("desired", None)
            self.stdout.write(json.dumps(body, indent=2, default=str))
        elif format == "sql":
            self.stdout.write(result.sql or "-- nothing to do")
        else:
            self.stdout.write(render_text(result))
        code = (
            EXIT_NOTHING
            if result.is_empty
            else EXIT_DANGEROUS
            if result.is_dangerous
            else EXIT_SAFE
        )
        sys.exit(code)

    def _recorded_target(self, alias: str) -> Any:
        from migrations_ui.models import Target

        try:
            return Target.objects.filter(connection_alias=alias).first()
        except DatabaseError:
            return None  # planning needs no app database

    def _cache(self) -> Any:
        """The app's canonical-form cache when its database answers (a second plan of the same
        blueprint is then as warm as the app's); None plans cold, without the app database."""
        from migrations_ui.models import CanonicalForm
        from migrations_ui.workflow.engine_bridge import DbCanonicalCache

        try:
            CanonicalForm.objects.exists()
        except DatabaseError:
            return None
        return DbCanonicalCache()

    def _recorded_managed(self, target: Any) -> set[str]:
        if target is None:
            return set()
        from migrations_ui.models import MigrationRecord

        try:
            return MigrationRecord.managed_for(target)
        except DatabaseError:
            return set()

    def _invalid(self, issues: list[tuple[str, str]], format: str) -> None:
        if format == "json":
            self.stdout.write(
                json.dumps(
                    {"valid": False, "errors": [{"path": p, "message": m} for p, m in issues]},
                    indent=2,
                )
            )
        else:
            plural = "s" if len(issues) != 1 else ""
            self.stderr.write(f"The blueprint is invalid ({len(issues)} problem{plural}):")
            for path, message in issues:
                self.stderr.write(f"  {path}: {message}")
        sys.exit(EXIT_INVALID)
