"""Grants in the normalized blueprint: privileges on a table per role, and the schema's
default privileges. A table whose ``grants`` is None has its grants left alone."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from schemabuilder.engine.contract.privileges import (
    OBJECT_PRIVILEGES,
    TABLE_PRIVILEGES,
    DefaultPrivilege,
    Grant,
    SequenceGrant,
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class NGrant(_Frozen):
    """Privileges (upper case, in PostgreSQL's order; ``ALL`` kept as written, expanded by
    the plan for the server's version) for one role, lower case; ``public`` is PUBLIC."""

    role: str
    privileges: tuple[str, ...]


class NDefaultPrivilege(_Frozen):
    role: str
    on: Literal["tables", "sequences", "functions"]
    privileges: tuple[str, ...]


def _privileges(privileges: list[str], order: tuple[str, ...]) -> tuple[str, ...]:
    if "ALL" in privileges:
        return ("ALL",)
    return tuple(p for p in order if p in privileges)


def normalize_grant(grant: Grant | SequenceGrant) -> NGrant:
    """A grant with its role in lower case and its privileges in PostgreSQL's order."""
    order = TABLE_PRIVILEGES if isinstance(grant, Grant) else OBJECT_PRIVILEGES["sequences"]
    return NGrant(role=grant.role.lower(), privileges=_privileges(grant.privileges, order))


def normalize_default_privilege(default: DefaultPrivilege) -> NDefaultPrivilege:
    """A default privilege with its role in lower case and its privileges in order."""
    order = OBJECT_PRIVILEGES[default.on]
    return NDefaultPrivilege(
        role=default.role.lower(), on=default.on, privileges=_privileges(default.privileges, order)
    )


def grant_json(grant: NGrant) -> dict[str, Any]:
    """A grant as the payload writes it."""
    return {"role": grant.role, "privileges": list(grant.privileges)}


def normalize_grants(grants: Sequence[Grant | SequenceGrant] | None) -> tuple[NGrant, ...] | None:
    """None (not managed) stays None."""
    return None if grants is None else tuple(normalize_grant(g) for g in grants)


def grants_payload(
    grants: tuple[NGrant, ...] | None, sequence_grants: tuple[NGrant, ...] | None
) -> dict[str, Any]:
    """A table's grants as the payload writes them: only the managed ones."""
    out: dict[str, Any] = {}
    if grants is not None:
        out["grants"] = [grant_json(g) for g in grants]
    if sequence_grants is not None:
        out["sequence_grants"] = [grant_json(g) for g in sequence_grants]
    return out
