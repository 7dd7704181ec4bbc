"""Create the demo tenant, target and people. Safe to run again: it changes nothing twice."""

from __future__ import annotations

import os
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from migrations_ui.models import Membership, Role, Target, Tenant
from schemabuilder.embedded import data_dir

DEMO_PEOPLE = [
    # username, role, superuser
    ("alice", Role.SUBMITTER, False),
    ("bob", Role.APPROVER, False),
    ("carol", Role.ADMIN, True),
]


def demo_password() -> tuple[str, bool]:
    """``DEMO_PASSWORD`` when set, else one generated once and kept in .data/. (password, new?)"""
    if pw := os.environ.get("DEMO_PASSWORD"):
        return pw, False
    path = data_dir() / "demo_password"
    if path.exists():
        return path.read_text().strip(), False
    path.parent.mkdir(parents=True, exist_ok=True)
    pw = secrets.token_urlsafe(12)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(pw)
    return pw, True


class Command(BaseCommand):
    help = "Create the demo tenant t_demo (target dev) and the users alice, bob and carol."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        password, generated = demo_password()
        tenant, _ = Tenant.objects.get_or_create(slug="t_demo", defaults={"name": "Demo tenant"})
        Target.objects.get_or_create(
            tenant=tenant,
            environment="dev",
            defaults={"connection_alias": "dev", "schema_name": "public", "is_default": True},
        )
        User = get_user_model()
        for username, role, superuser in DEMO_PEOPLE:
            user, created = User.objects.get_or_create(
                username=username, defaults={"email": f"{username}@example.com"}
            )
            if created or not user.check_password(password):
                user.set_password(password)
            user.is_staff = user.is_superuser = superuser
            user.save()
            Membership.objects.update_or_create(user=user, tenant=tenant, defaults={"role": role})
        if os.environ.get("DEMO_PASSWORD"):
            shown = "the value of DEMO_PASSWORD"
        else:
            where = "generated now" if generated else "generated on first run"
            shown = f"{password}  ({where}, kept in {data_dir() / 'demo_password'})"
        self.stdout.write(
            f"demo users alice (submitter), bob (approver), carol (admin); password: {shown}"
        )
