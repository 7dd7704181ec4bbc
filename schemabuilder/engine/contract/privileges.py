"""Privileges in the blueprint: what a role may do on a table, on the sequences a table
owns, and by default on what is created later in the schema. Closed vocabularies,
PostgreSQL's own; role names checked as any identifier (``PUBLIC``: every role)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from schemabuilder.engine.contract.idents import did_you_mean, name_problem

MAX_ITEMS = 200

# PostgreSQL's privileges per kind of object (MAINTAIN exists from PostgreSQL 17 on).
TABLE_PRIVILEGES = (
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "TRUNCATE",
    "REFERENCES",
    "TRIGGER",
    "MAINTAIN",
)
OBJECT_PRIVILEGES: dict[str, tuple[str, ...]] = {
    "tables": TABLE_PRIVILEGES,
    "sequences": ("USAGE", "SELECT", "UPDATE"),
    "functions": ("EXECUTE",),
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _role(value: str) -> str:
    problem = name_problem(value)
    if problem:
        raise ValueError(f"role {problem}")
    return value


def _grantee(value: str) -> str:
    if value.upper() == "PUBLIC":
        return "PUBLIC"
    return _role(value)


def _privileges(value: object, on: str) -> object:
    if not isinstance(value, list):
        return value
    allowed = OBJECT_PRIVILEGES[on]
    out: list[str] = []
    for item in value:
        if not isinstance(item, str):
            return value  # the str type check reports it
        privilege = " ".join(item.split()).upper()
        if privilege in ("ALL", "ALL PRIVILEGES"):
            privilege = "ALL"
        elif privilege not in allowed:
            raise ValueError(
                f"{item[:40]!r} is not a privilege on {on}: use ALL or any of "
                f"{', '.join(allowed)}" + did_you_mean(privilege, allowed)
            )
        if privilege in out:
            raise ValueError(f"{privilege} is listed twice: list each privilege once")
        out.append(privilege)
    return out


def _table_privileges(value: object) -> object:
    return _privileges(value, "tables")


def _sequence_privileges(value: object) -> object:
    return _privileges(value, "sequences")


Grantee = Annotated[str, AfterValidator(_grantee)]


class Grant(_Model):
    """Privileges on a table for one role (``PUBLIC``: every role)."""

    role: Grantee
    privileges: Annotated[
        list[str], BeforeValidator(_table_privileges), Field(min_length=1, max_length=16)
    ]


class SequenceGrant(_Model):
    """Privileges for one role on the sequences a table owns (its serial and identity
    columns'): USAGE (nextval, what a serial column's default needs), SELECT, UPDATE."""

    role: Grantee
    privileges: Annotated[
        list[str], BeforeValidator(_sequence_privileges), Field(min_length=1, max_length=8)
    ]


class DefaultPrivilege(_Model):
    """What the objects the applying role creates in the schema grant from the start
    (ALTER DEFAULT PRIVILEGES IN SCHEMA ... GRANT ... ON TABLES TO role)."""

    role: Grantee
    on: Literal["tables", "sequences", "functions"]
    privileges: Annotated[list[str], Field(min_length=1, max_length=16)]

    @field_validator("privileges", mode="before")
    @classmethod
    def _privileges_of_kind(cls, value: Any, info: ValidationInfo) -> Any:
        on = info.data.get("on")
        return _privileges(value, on) if on in OBJECT_PRIVILEGES else value


def one_grant_per_role[G: Grant | SequenceGrant](grants: list[G] | None) -> list[G] | None:
    """One entry per role (roles compare in lower case, as they are normalized)."""
    seen: set[str] = set()
    for grant in grants or ():
        role = grant.role.lower()
        if role in seen:
            raise ValueError(
                f"role {grant.role} has two grants: list all its privileges in one grant"
            )
        seen.add(role)
    return grants
