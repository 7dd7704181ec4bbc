"""The canonical-form cache: a table definition's desired snapshot, so an unchanged table
need not be materialized again.

The key is the hash of everything that decides how PostgreSQL prints the table (its
normalized definition, the fence, the tables it references, the cache format) plus the
server's major version. A live table equal to the cached form of its current definition is
up to date; only the others are materialized. The app persists the cache in its database;
``MemoryCanonicalCache`` is the in-process version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import NamedTuple, Protocol

from schemabuilder.engine.catalog.snapshot import Table, canonical_dumps
from schemabuilder.engine.contract.normalize import NFence, NTable

# The files that decide what a table prints as and how its form is keyed: the catalog
# queries and the code that renders, reads and keys them.
_FORM_SOURCES = (
    "catalog/introspect.py",
    "desired/ddl.py",
    "catalog/snapshot.py",
    "contract/normalize.py",
    "desired/members.py",
    "desired/cache.py",
    "catalog/live_forms.py",
    "desired/materialize.py",
)


def _source_digest() -> str:
    """A digest of the engine's catalog SQL and renderer, so that a release that changes how a
    form prints (or is keyed) never reads a form an earlier one stored: no version to bump by
    hand and forget."""
    here = Path(__file__).parent.parent
    digest = hashlib.sha256()
    sources = [
        *sorted((here / "catalog" / "sql").glob("*.sql")),
        *(here / n for n in _FORM_SOURCES),
    ]
    for path in sources:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


CANONICAL_FORM_VERSION = _source_digest()


class CanonicalKey(NamedTuple):
    """(definition hash, server major version)."""

    definition_hash: str
    server_major: int


class CanonicalCache(Protocol):
    """Where the canonical forms live between plans.

    ``get_many`` answers every key a plan needs at once (the keys it knows, missing ones left
    out) and ``put_many`` stores every table a plan materialized: a cache kept in a database
    then costs two round trips per plan, not one or two per table.
    """

    def get_many(self, keys: Collection[CanonicalKey]) -> Mapping[CanonicalKey, Table]: ...
    def put_many(self, entries: Mapping[CanonicalKey, Table]) -> None: ...


class MemoryCanonicalCache:
    """A ``CanonicalCache`` in a dict (per process)."""

    def __init__(self) -> None:
        self.entries: dict[CanonicalKey, Table] = {}

    def get_many(self, keys: Collection[CanonicalKey]) -> dict[CanonicalKey, Table]:
        return {k: self.entries[k] for k in keys if k in self.entries}

    def put_many(self, entries: Mapping[CanonicalKey, Table]) -> None:
        self.entries.update(entries)

    def __len__(self) -> int:
        return len(self.entries)


def referenced_tables(table: NTable) -> list[str]:
    """The tables ``table``'s foreign keys point at (sorted, without duplicates)."""
    refs = {fk.target for fk in table.foreign_keys}
    refs |= {c.references.target for c in table.columns if c.references is not None}
    return sorted(refs)


def definition_hash(table: NTable, fence: NFence, context: str = "") -> str:
    """sha256 of the table's JSON with the fence and its referenced tables.

    pydantic writes the models' JSON itself, in field order (the normalized models hold no
    dicts, so the text is determined by the definition): a plan hashes every table of the
    blueprint, and a Python dump with sorted keys cost several times as much. Grants are
    not part of a table's printed form (they are planned apart), so they are left out.
    """
    if table.grants is not None or table.sequence_grants is not None:
        table = table.model_copy(update={"grants": None, "sequence_grants": None})
    material = (
        f'{{"form":"{CANONICAL_FORM_VERSION}","context":"{context}",'
        f'"fence":{fence.model_dump_json()},'
        f'"referenced":{canonical_dumps(referenced_tables(table))},'
        f'"table":{table.model_dump_json()}}}'
    )
    return hashlib.sha256(material.encode()).hexdigest()


def canonical_key(
    table: NTable, fence: NFence, server_version: int, context: str = ""
) -> CanonicalKey:
    """The cache key of ``table`` on a server (``server_version`` as in ``conn.info``) in a
    target's ``context`` (``live_forms.form_context``: the server, the database, the schema and
    the types, functions, roles and extensions there), so a form learned on one target never
    vouches for a table on another, where a type or role it names may be missing."""
    return CanonicalKey(definition_hash(table, fence, context), server_version // 10000)
