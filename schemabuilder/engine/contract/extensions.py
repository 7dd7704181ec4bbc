"""Extensions a blueprint may install: an allowlist the deployment configures.

``CREATE EXTENSION`` runs the extension's own install script with the rights of the role
that runs it, and what it installs is shared by the whole database: so a blueprint names
only extensions from this list, never any other. The default holds only extensions that
PostgreSQL marks trusted (a role with CREATE on the database may install them, no
superuser needed) and that add data types, operators, index support or pure functions:
nothing that reads files, opens connections, runs code in other languages or adds trigger
functions (``moddatetime`` is not trusted and stays out). ``SB_EXTENSIONS`` replaces the
list (comma-separated names; ``none`` allows none).
"""

from __future__ import annotations

import os
from functools import lru_cache

from schemabuilder.engine.contract.idents import did_you_mean, quote_ident

DEFAULT_EXTENSIONS: tuple[str, ...] = (
    "btree_gin",
    "btree_gist",
    "citext",
    "hstore",
    "ltree",
    "pg_trgm",
    "pgcrypto",
    "unaccent",
    "uuid-ossp",
)
EXTENSIONS_SETTING = "SB_EXTENSIONS"
MAX_EXTENSIONS = 50


def allowed_extensions() -> tuple[str, ...]:
    """The extensions a blueprint may install here: ``SB_EXTENSIONS`` when it is set, else
    ``DEFAULT_EXTENSIONS``."""
    return _parse(os.environ.get(EXTENSIONS_SETTING, ""))


@lru_cache(maxsize=8)
def _parse(setting: str) -> tuple[str, ...]:
    if not setting.strip():
        return DEFAULT_EXTENSIONS
    names = [n.strip().lower() for n in setting.split(",") if n.strip()]
    return tuple(sorted(set(names) - {"none"}))


def extension_name(value: str) -> str:
    """``value`` when it names an allowed extension (any case, spaces trimmed), else an error
    that lists the allowed ones."""
    name = value.strip().lower()
    allowed = allowed_extensions()
    if name in allowed:
        return name
    listed = ", ".join(allowed) if allowed else "none (this deployment allows no extension)"
    raise ValueError(
        f"{value[:64]!r} is not an extension this deployment allows: use one of {listed}"
        + did_you_mean(name, allowed)
        + f" (the list is {EXTENSIONS_SETTING})"
    )


def unique_extensions(names: list[str]) -> list[str]:
    """Each extension once."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"extension {name} is listed twice: list it once")
        seen.add(name)
    return names


def create_extension_sql(name: str, schema: str) -> str:
    """``CREATE EXTENSION IF NOT EXISTS "name" SCHEMA schema``: a concurrent install meanwhile
    is no failure (whichever schema it chose is then the extension's)."""
    return f"CREATE EXTENSION IF NOT EXISTS {quote_ident(name)} SCHEMA {quote_ident(schema)}"
