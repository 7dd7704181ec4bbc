"""The blueprint's enum types: ``types`` at the top of the payload.

``{"name": "order_status", "enum": ["pending", "paid"], "comment": "...",
"renamed_from": "old_name", "renamed_values": {"payed": "paid"}}``: the values in their order,
``renamed_from`` for a type that had another name, ``renamed_values`` (old -> new) for values
that had another spelling. Columns name the type (``order_status``, ``order_status[]``);
defaults and checks name its values (``'pending'::order_status``).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from schemabuilder.engine.contract.errors import Issue
from schemabuilder.engine.contract.idents import name_problem, snake_case

MAX_TYPES = 200
MAX_VALUES = 1_000
MAX_VALUE_BYTES = 63  # NAMEDATALEN - 1: PostgreSQL's limit on an enum label


def _name(value: str) -> str:
    problem = name_problem(value)
    if problem:
        raise ValueError(problem)
    if snake_case(value) != value:
        # Columns name the type as SQL does, folded to lower case: a type called anything
        # else could not be named by them the way it is spelled here.
        raise ValueError(
            f"write the type's name in snake_case ({snake_case(value)}): columns, defaults "
            "and checks name it that way"
        )
    return value


def _value(value: str) -> str:
    if not value:
        raise ValueError("an enum value cannot be empty: write the label, e.g. 'pending'")
    if len(value.encode()) > MAX_VALUE_BYTES:
        raise ValueError(
            f"{value[:40]!r}... is {len(value.encode())} bytes long: PostgreSQL allows at most "
            f"{MAX_VALUE_BYTES} bytes for an enum value, shorten it"
        )
    for char in value:
        if ord(char) < 32 or ord(char) == 127:
            raise ValueError(f"contains the control character U+{ord(char):04X}: remove it")
    return value


TypeName = Annotated[str, Field(min_length=1, max_length=63), AfterValidator(_name)]
EnumValue = Annotated[str, Field(max_length=256), AfterValidator(_value)]


class EnumType(BaseModel):
    """One enum type, as submitted."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: TypeName
    enum: Annotated[list[EnumValue], Field(min_length=1, max_length=MAX_VALUES)]
    comment: Annotated[str, Field(max_length=10_000)] | None = None
    renamed_from: TypeName | None = None
    renamed_values: dict[EnumValue, EnumValue] = {}


class NType(BaseModel):
    """One enum type, normalized: the name in snake_case, the values as written."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    name: str
    values: tuple[str, ...]
    comment: str | None = None
    renamed_from: str | None = None
    renamed_values: tuple[tuple[str, str], ...] = ()  # (old, new), sorted by old


def normalize_type(spec: EnumType) -> NType:
    """``spec`` with its names in the blueprint's snake_case."""
    return NType(
        name=snake_case(spec.name),
        values=tuple(spec.enum),
        comment=spec.comment,
        renamed_from=snake_case(spec.renamed_from) if spec.renamed_from else None,
        renamed_values=tuple(sorted(spec.renamed_values.items())),
    )


def literal(value: str) -> str:
    """``value`` as an SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def create_enum_sql(qualified: str, t: NType) -> str:
    """``CREATE TYPE <qualified> AS ENUM (...)`` with the values in their order."""
    return f"CREATE TYPE {qualified} AS ENUM ({', '.join(literal(v) for v in t.values)})"


def check_types(types: tuple[NType, ...], table_names: set[str], prefix: str) -> list[Issue]:
    """What needs the whole list: names unique (and not a table's, whose row type has it),
    values unique, renamed values that end in a value of the type."""
    issues: list[Issue] = []
    seen: dict[str, int] = {}
    sources: dict[str, int] = {}
    for i, t in enumerate(types):
        path = f"{prefix}.types[{i}]"
        if t.name in seen:
            issues.append(
                Issue(f"{path}.name", f"type {t.name} is declared twice (types[{seen[t.name]}])")
            )
        seen.setdefault(t.name, i)
        if t.name in table_names:
            issues.append(
                Issue(
                    f"{path}.name",
                    f"{t.name} is also a table, and a table's row type has its name: "
                    "name the type otherwise",
                )
            )
        if t.renamed_from:
            if t.renamed_from in sources:
                issues.append(
                    Issue(f"{path}.renamed_from", f"two types are renamed from {t.renamed_from}")
                )
            sources.setdefault(t.renamed_from, i)
        firsts: dict[str, int] = {}
        for j, value in enumerate(t.values):
            if value in firsts:
                issues.append(
                    Issue(
                        f"{path}.enum[{j}]",
                        f"the value {value!r} is listed twice (also enum[{firsts[value]}]): "
                        "keep one",
                    )
                )
            firsts.setdefault(value, j)
        targets: set[str] = set()
        for old, new in t.renamed_values:
            where = f"{path}.renamed_values.{old}"
            if new not in firsts:
                issues.append(
                    Issue(where, f"{old!r} is renamed to {new!r}, which is not in enum: add it")
                )
            if old in firsts:
                issues.append(
                    Issue(where, f"{old!r} is renamed, yet still in enum: remove it from enum")
                )
            if new in targets:
                issues.append(Issue(where, f"two values are renamed to {new!r}"))
            targets.add(new)
    return issues


def types_digest(types: tuple[NType, ...]) -> str:
    """What the blueprint's types add to a canonical form's context ('' without types): a
    check or default naming a value prints only when the type has it."""
    if not types:
        return ""
    return "|types:" + "|".join(f"{t.name}={','.join(t.values)}" for t in types)
