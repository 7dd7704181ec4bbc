"""Create a personal API token for a user and print it, once: for bootstrapping automation.

    TOKEN=$(python manage.py create_token alice --name "CI deploy")

Only the token goes to stdout; the note about it goes to stderr, so the line above captures
exactly the token. Whoever runs it at the server's shell acts as the user (the shell holds the
app's database credentials anyway); the audit trail records it as made on the command line.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from migrations_ui.models import ApiToken


class Command(BaseCommand):
    help = (
        "Create an API token for USER and print it once (only its hash is stored). The token "
        "acts as USER: their tenant memberships decide what it may do."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user", help="The username the token acts as.")
        parser.add_argument("--name", default="command line", help="A name to recognise it by.")

    def handle(self, *args: Any, user: str, name: str, **options: Any) -> None:
        found = get_user_model().objects.filter(username=user).first()
        if found is None:
            raise CommandError(f"No user {user!r}.")
        if not found.is_active:
            raise CommandError(f"The user {user!r} is inactive: a token of theirs would not work.")
        name = name.strip()
        max_length = ApiToken._meta.get_field("name").max_length or 100
        if not name or len(name) > max_length:
            raise CommandError(f"--name must be 1 to {max_length} characters.")
        token, raw = ApiToken.issue(found, name, via="command line")
        self.stdout.write(raw)
        self.stderr.write(
            f"Created token {token.prefix}… ({name!r}) for {user}. It is shown this once: "
            "store it now. Revoke it at /settings/tokens/ or in the admin."
        )
