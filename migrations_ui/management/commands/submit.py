"""Submit a blueprint from a script, through the same service as the web and the API."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from migrations_ui.api.contract import contract_status, output_contract
from migrations_ui.audit.context import request_id
from migrations_ui.models import NotAllowedError, Role, Source
from migrations_ui.workflow.submission import (
    IdempotencyConflict,
    NotFound,
    submit,
    wait_until_final,
)
from migrations_ui.workflow.version_rule import VersionRefused
from schemabuilder.engine import BlueprintInvalid, json_text

# Exit codes, as for `plan`, plus 4 for failed.
EXIT = {"noop": 0, "applied": 2, "queued": 2, "blocked": 3, "pending_approval": 3, "failed": 4}


class Command(BaseCommand):
    help = (
        "Submit a blueprint envelope (JSON file, or - for stdin) and print the seed's output "
        "contract. Exit 0 noop, 2 applied or queued, 3 blocked or awaiting approval, 1 invalid, "
        "4 failed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument(
            "--tenant", required=True, help="Tenant slug (it must match the envelope's)."
        )
        parser.add_argument(
            "--target", default=None, help="Target environment (default: the tenant's default)."
        )
        parser.add_argument(
            "--user", default=None, help="Submit as this user (default: the tenant's first admin)."
        )
        parser.add_argument(
            "--wait", type=float, default=0, help="Seconds to wait for a final result."
        )

    def handle(
        self,
        *args: Any,
        file: str,
        tenant: str,
        target: str | None,
        user: str | None,
        wait: float,
        **options: Any,
    ) -> None:
        raw = sys.stdin.read() if file == "-" else Path(file).read_text()
        try:
            envelope = json_text.loads(raw)
        except BlueprintInvalid as exc:
            self._fail(
                1,
                {
                    "error": "invalid",
                    "message": "The blueprint has duplicate keys.",
                    "errors": exc.as_dicts(),
                },
            )
        except json.JSONDecodeError as exc:
            self._fail(1, {"error": "invalid_json", "message": f"Not JSON: {exc}"})
        if isinstance(envelope, dict) and "payload" not in envelope:
            envelope = {"payload": envelope}  # a bare payload is welcome from scripts
        if isinstance(envelope, dict):
            envelope.setdefault("meta", {}).setdefault("tenant_id", tenant)
        submitter = self._user(user, tenant)
        try:
            with request_id(f"cli-{uuid.uuid4().hex[:12]}"):
                submission = submit(
                    user=submitter, envelope=envelope, source=Source.CLI, environment=target
                )
        except BlueprintInvalid as exc:
            self._fail(
                1,
                {
                    "error": "invalid",
                    "message": "The blueprint is invalid.",
                    "errors": [{"path": i.path, "message": i.message} for i in exc.issues],
                },
            )
        except (NotFound, NotAllowedError, IdempotencyConflict, VersionRefused) as exc:
            raise CommandError(str(exc)) from exc
        proposal = wait_until_final(submission.proposal, wait) if wait else submission.proposal
        answer = output_contract(
            proposal,
            request_body=envelope,
            latency_ms=submission.latency_ms,
            replay=not submission.created,
        )
        self.stdout.write(json.dumps(answer, indent=2, default=str))
        sys.exit(EXIT[contract_status(proposal, replay=not submission.created)])

    def _user(self, username: str | None, tenant: str) -> Any:
        User = get_user_model()
        if username:
            found = User.objects.filter(username=username).first()
            if found is None:
                raise CommandError(f"No user {username!r}.")
            return found
        found = (
            User.objects.filter(memberships__tenant__slug=tenant, memberships__role=Role.ADMIN)
            .order_by("pk")
            .first()
        )
        if found is None:
            raise CommandError(f"Tenant {tenant!r} has no admin to submit as; pass --user.")
        return found

    def _fail(self, code: int, body: dict[str, Any]) -> None:
        self.stdout.write(json.dumps(body, indent=2))
        sys.exit(code)
