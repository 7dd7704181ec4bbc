"""Grants in the normalized blueprint: privileges on a table per role, and the schema's
default privileges. A table whose ``grants`` is None has its grants left alone."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from schemabuilder.engine.contract.blueprint import (
    OBJECT_PRIVILEGES,
    TABLE_PRIVILEGES,
    DefaultPrivilege,
    Grant,
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


def normalize_grant(grant: Grant) -> NGrant:
    return NGrant(
        role=grant.role.lower(), privileges=_privileges(grant.privileges, TABLE_PRIVILEGES)
    )


def normalize_default_privilege(default: DefaultPrivilege) -> NDefaultPrivilege:
    order = OBJECT_PRIVILEGES[default.on]
    return NDefaultPrivilege(
        role=default.role.lower(), on=default.on, privileges=_privileges(default.privileges, order)
    )


def grant_json(grant: NGrant) -> dict[str, Any]:
    return {"role": grant.role, "privileges": list(grant.privileges)}
