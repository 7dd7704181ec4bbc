"""Audit retention: ``manage.py purge_audit --before YYYY-MM-DD [--tenant T] --yes``.

The only documented way audit events are ever deleted (README, "Audit retention").
"""

from __future__ import annotations

import datetime
import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from migrations_ui.audit.chain import RetentionTooRecent, purge_before
from migrations_ui.models import Tenant


def _date(value: str) -> datetime.datetime:
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--before wants a date as YYYY-MM-DD, not {value!r}.") from exc
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)


class Command(BaseCommand):
    help = (
        "Delete each tenant's audit events older than a date (whole chain prefixes, in one "
        "transaction), after recording an audit.retention event that states what was removed. "
        "Without --yes, only shows what would go."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--before", required=True, help="Remove events before this day (UTC midnight)."
        )
        parser.add_argument("--tenant", default=None, help="Only this tenant (slug).")
        parser.add_argument("--yes", action="store_true", help="Really delete.")
        parser.add_argument(
            "--actor", default=None, help="Who runs it, for the record (default: the OS user)."
        )

    def handle(
        self,
        *args: Any,
        before: str,
        tenant: str | None,
        yes: bool,
        actor: str | None,
        **options: Any,
    ) -> None:
        cutoff = _date(before)
        if cutoff > timezone.now():
            raise CommandError("--before is in the future: retention only removes the past.")
        chosen = None
        if tenant is not None:
            chosen = Tenant.objects.filter(slug=tenant).first()
            if chosen is None:
                raise CommandError(f"No tenant {tenant!r}.")
        who = f"retention ({actor or getpass.getuser()})"[:150]
        try:
            removals = purge_before(cutoff, tenant=chosen, actor_name=who, dry_run=not yes)
        except RetentionTooRecent as exc:
            raise CommandError(str(exc)) from exc
        if not removals:
            self.stdout.write(f"nothing before {cutoff.date()}: no event removed")
            return
        for r in removals:
            verb = "removed" if yes else "would remove"
            recorded = f"; recorded as event {r.retention_event_id}" if yes else ""
            self.stdout.write(
                f"{r.tenant}: {verb} {r.count:,} events {r.first_id}..{r.last_id} "
                f"({r.first_at:%Y-%m-%d} to {r.last_at:%Y-%m-%d}), last hash {r.last_hash}"
                f"{recorded}"
            )
        if not yes:
            self.stdout.write("nothing deleted: run again with --yes")
