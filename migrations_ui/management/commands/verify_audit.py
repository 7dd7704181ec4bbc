"""Verify the audit trail's hash chains: ``manage.py verify_audit [--tenant T] [--heads]``."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from migrations_ui.audit.chain import verify_chains
from migrations_ui.models import Tenant


class Command(BaseCommand):
    help = (
        "Walk every tenant's audit chain (or one tenant's): recompute each event's hash, check "
        "each link and each sequence number, and compare each chain's end with its checkpoint. "
        "Exit 0 when every chain holds, 1 naming the first broken event of each broken chain."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", default=None, help="Only this tenant's chain (slug).")
        parser.add_argument(
            "--heads",
            action="store_true",
            help="Also print each chain's last event, seq and hash: keep them outside the "
            "database too, as webhook bodies and target markers do.",
        )

    def handle(self, *args: Any, tenant: str | None, heads: bool, **options: Any) -> None:
        chosen = None
        if tenant is not None:
            chosen = Tenant.objects.filter(slug=tenant).first()
            if chosen is None:
                raise CommandError(f"No tenant {tenant!r}.")
        result = verify_chains(chosen)
        for broken in result.breaks:
            self.stdout.write(str(broken))
        events = "event" if result.events == 1 else "events"
        chains = "chain" if result.chains == 1 else "chains"
        summary = f"{result.events:,} {events} in {result.chains:,} tenant {chains}"
        if heads:
            for slug, head in sorted(result.heads.items()):
                note = " (starts after a retention)" if head.after_retention else ""
                self.stdout.write(
                    f"head {slug}: event {head.last_id}, seq {head.last_seq}, {head.last_hash}, "
                    f"{head.events:,} events{note}"
                )
        if result.ok:
            self.stdout.write(f"verified {summary}")
            return
        self.stdout.write(f"checked {summary}: {len(result.breaks)} broken")
        sys.exit(1)
