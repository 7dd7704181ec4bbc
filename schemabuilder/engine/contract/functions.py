"""The blueprint's functions: ``functions`` at the top of the payload, SQL and PL/pgSQL.

``{"name": "is_member_of", "arguments": [{"name": "org", "type": "uuid"}], "returns":
"boolean", "language": "sql", "volatility": "stable", "security_definer": true,
"search_path": "", "body": "select ..."}``. A function is code that runs later with the
target's rights: its body is parsed here (``function_bodies``) and never run while planning.
Names are unique in a blueprint (no overloading): a function is known by its name.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from schemabuilder.engine.contract import allowlist, fragments
from schemabuilder.engine.contract.errors import Issue
from schemabuilder.engine.contract.grants import NGrant, grant_json
from schemabuilder.engine.contract.idents import name_problem, one_of, snake_case
from schemabuilder.engine.contract.privileges import Grantee, one_grant_per_role

if TYPE_CHECKING:
    from schemabuilder.engine.contract.normalize import NormalizedBlueprint

MAX_FUNCTIONS = 500
MAX_ARGUMENTS = 100
MAX_BODY = 100_000
LANGUAGES = ("sql", "plpgsql")
VOLATILITIES = ("volatile", "stable", "immutable")
_SEARCH_PATH_PART = re.compile(r"[a-z_][a-z0-9_]*")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _name(value: str) -> str:
    problem = name_problem(value)
    if problem:
        raise ValueError(problem)
    if snake_case(value) != value:
        # Policies and triggers call it as SQL does, folded to lower case.
        raise ValueError(
            f"write the function's name in snake_case ({snake_case(value)}): policies and "
            "triggers call it that way"
        )
    if value in allowlist.BUILTINS or value in allowlist.GENERATORS:
        # An unqualified call finds pg_catalog first: policies would call the built-in.
        raise ValueError(
            f"{value} is the name of a built-in function, which an unqualified call finds "
            "first: name the function otherwise"
        )
    return value


def _type(value: str) -> str:
    checked = fragments.check_type(value)
    if checked.problem:
        raise ValueError(f"type {checked.problem}")
    return checked.text


def _default(value: str) -> str:
    checked = fragments.check_expression(value, allow_subqueries=False)
    problem = checked.problem or allowlist.judge(checked, "default")[0]
    if problem:
        raise ValueError(f"expression {problem}")
    if allowlist.sequences_named(checked):
        # A column's default may draw from its own sequence; an argument has none.
        raise ValueError("calls nextval(): an argument's default may not draw from a sequence")
    return checked.text


def _split_top(text: str) -> list[str]:
    """``text`` split at the commas outside brackets."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return [*parts, text[start:]]


def _returns(value: object) -> object:
    if not isinstance(value, str):
        return value
    spelled = " ".join(value.split())
    lower = spelled.lower()
    if lower in ("trigger", "void"):
        return lower
    if lower.startswith("setof "):
        return f"setof {_type(spelled[6:])}"
    if lower.startswith("table") and spelled.endswith(")") and "(" in spelled:
        inner = spelled[spelled.index("(") + 1 : -1]
        if spelled[:5].lower() != "table" or spelled[5 : spelled.index("(")].strip():
            raise ValueError(_RETURNS_HINT)
        columns = []
        for part in _split_top(inner):
            name, _, type_ = part.strip().partition(" ")
            if problem := name_problem(name):
                raise ValueError(f"a column of table(...): {problem}")
            columns.append(f"{snake_case(name)} {_type(type_)}")
        return f"table({', '.join(columns)})"
    return _type(spelled)


_RETURNS_HINT = (
    "write a type (boolean, uuid, text[]), trigger, void, 'setof <type>' or "
    "'table(<column> <type>, ...)'"
)


_language = one_of(
    LANGUAGES,
    what="a language a blueprint function may use",
    hint="use sql or plpgsql",
    shown_chars=40,
)
_volatility = one_of(VOLATILITIES, what="a volatility", shown_chars=40)


def _search_path(value: str) -> str:
    if not value.strip():
        return ""
    parts = [p.strip() for p in value.split(",")]
    for part in parts:
        if not _SEARCH_PATH_PART.fullmatch(part):
            raise ValueError(
                f"{part[:40]!r} is not a schema name: write schema names in lower case "
                'separated by commas (for example "public, pg_temp"), or "" for none'
            )
    return ", ".join(parts)


def _body(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty: write the function's body")
    if "\x00" in value:
        raise ValueError("contains the control character U+0000: remove it")
    return value


def _function_privileges(value: object) -> object:
    if not isinstance(value, list):
        return value
    out = []
    for item in value:
        if not isinstance(item, str):
            return value
        privilege = " ".join(item.split()).upper()
        if privilege in ("ALL", "ALL PRIVILEGES"):
            privilege = "EXECUTE"  # the only privilege a function has
        if privilege != "EXECUTE":
            raise ValueError(f"{item[:40]!r} is not a privilege on functions: use EXECUTE")
        if privilege not in out:
            out.append(privilege)
    return out


def _argument_name(value: str) -> str:
    if problem := name_problem(value):
        raise ValueError(problem)
    if snake_case(value) != value:
        # The body names it as SQL does, folded to lower case.
        raise ValueError(
            f"write the argument's name in snake_case ({snake_case(value)}), as the body names it"
        )
    return value


FunctionName = Annotated[str, Field(min_length=1, max_length=63), AfterValidator(_name)]
ArgumentType = Annotated[str, AfterValidator(_type)]


class Argument(_Model):
    name: Annotated[str, AfterValidator(_argument_name)]
    type: ArgumentType
    default: Annotated[str, AfterValidator(_default)] | None = None


class FunctionGrant(_Model):
    """EXECUTE on the function for one role (``PUBLIC``: every role)."""

    role: Grantee
    privileges: Annotated[
        list[str], BeforeValidator(_function_privileges), Field(min_length=1, max_length=2)
    ]


class Function(_Model):
    """One function, as submitted."""

    name: FunctionName
    arguments: Annotated[list[Argument], Field(max_length=MAX_ARGUMENTS)] = []
    returns: Annotated[str, BeforeValidator(_returns)]
    language: Annotated[Literal["sql", "plpgsql"], BeforeValidator(_language)]
    body: Annotated[str, Field(max_length=MAX_BODY), AfterValidator(_body)]
    volatility: Annotated[
        Literal["volatile", "stable", "immutable"], BeforeValidator(_volatility)
    ] = "volatile"
    security_definer: bool = False
    search_path: Annotated[str, Field(max_length=1_000), AfterValidator(_search_path)] | None = None
    comment: Annotated[str, Field(max_length=10_000)] | None = None
    renamed_from: FunctionName | None = None
    # None: EXECUTE on the function is not managed; a list (even empty): exactly these.
    grants: (
        Annotated[list[FunctionGrant], Field(max_length=200), AfterValidator(one_grant_per_role)]
        | None
    ) = None


class NArgument(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    name: str
    type: str
    default: str | None = None


class NFunction(BaseModel):
    """One function, normalized: names in snake_case, grants' roles in lower case."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    name: str
    arguments: tuple[NArgument, ...] = ()
    returns: str
    language: str
    body: str
    volatility: str = "volatile"
    security_definer: bool = False
    search_path: str | None = None
    comment: str | None = None
    renamed_from: str | None = None
    grants: tuple[NGrant, ...] | None = None


def normalize_function(spec: Function) -> NFunction:
    """``spec`` with its names in the blueprint's snake_case."""
    return NFunction(
        name=spec.name,
        arguments=tuple(
            NArgument(name=snake_case(a.name), type=a.type, default=a.default)
            for a in spec.arguments
        ),
        returns=spec.returns,
        language=spec.language,
        body=spec.body,
        volatility=spec.volatility,
        security_definer=spec.security_definer,
        search_path=spec.search_path,
        comment=spec.comment,
        renamed_from=spec.renamed_from,
        grants=(
            None
            if spec.grants is None
            else tuple(NGrant(role=g.role.lower(), privileges=("EXECUTE",)) for g in spec.grants)
        ),
    )


def blueprint_function_names(bp: NormalizedBlueprint) -> set[str]:
    """The names of the blueprint's own functions (what policies and triggers may call)."""
    return {f.name for f in bp.functions}


def check_functions(functions: tuple[NFunction, ...], prefix: str) -> list[Issue]:
    """What needs the whole list or more than one field: names unique, renames once, a
    definer's fixed search_path, defaults only at the end, trigger functions' shape, and
    each body parsed."""
    from schemabuilder.engine.contract.function_bodies import body_problem

    issues: list[Issue] = []
    seen: dict[str, int] = {}
    sources: dict[str, int] = {}
    for i, f in enumerate(functions):
        path = f"{prefix}.functions[{i}]"
        if f.name in seen:
            issues.append(
                Issue(
                    f"{path}.name",
                    f"function {f.name} is declared twice (functions[{seen[f.name]}]): a "
                    "blueprint does not overload names, name one otherwise",
                )
            )
        seen.setdefault(f.name, i)
        if f.renamed_from:
            if f.renamed_from == f.name:
                issues.append(Issue(f"{path}.renamed_from", "is its own name: remove it"))
            elif f.renamed_from in sources:
                issues.append(
                    Issue(
                        f"{path}.renamed_from", f"two functions are renamed from {f.renamed_from}"
                    )
                )
            sources.setdefault(f.renamed_from, i)
        if f.security_definer and f.search_path is None:
            issues.append(
                Issue(
                    f"{path}.search_path",
                    "a security definer function runs with its owner's rights, so it needs a "
                    'fixed search_path: set "search_path": "" (and qualify every name in the '
                    'body, as public.members) or "search_path": "public, pg_temp"',
                )
            )
        names: dict[str, int] = {}
        defaulted = False
        for j, a in enumerate(f.arguments):
            if a.name in names:
                issues.append(
                    Issue(f"{path}.arguments[{j}].name", f"argument {a.name} is listed twice")
                )
            names.setdefault(a.name, j)
            if a.default is None and defaulted:
                issues.append(
                    Issue(
                        f"{path}.arguments[{j}].default",
                        "follows an argument with a default: give it a default too, or move "
                        "the arguments with defaults to the end",
                    )
                )
            defaulted = defaulted or a.default is not None
        if f.returns == "trigger" and f.arguments:
            issues.append(
                Issue(
                    f"{path}.arguments",
                    "a trigger function takes no declared arguments (it reads TG_ARGV): "
                    "remove them",
                )
            )
        if f.returns == "trigger" and f.language == "sql":
            issues.append(
                Issue(f"{path}.language", "a trigger function must be written in plpgsql")
            )
        # A trigger function of the wrong shape does not parse as PL/pgSQL either: say it once.
        problem = None if f.returns == "trigger" and f.arguments else body_problem(f)
        if problem:
            issues.append(Issue(f"{path}.body", problem))
    return issues


def dollar_tag(body: str) -> str:
    """A dollar-quote tag that does not occur in ``body``, nor across its end (a body ending
    in ``$fn`` would close ``$fn$`` early)."""
    tag, n = "$fn$", 0
    while (tag + body + tag).find(tag, len(tag)) != len(tag) + len(body):
        n += 1
        tag = f"$fn{n}$"
    return tag


def _quote(name: str) -> str:
    from schemabuilder.engine.contract.idents import quote_ident

    return quote_ident(name)


def signature_sql(f: NFunction) -> str:
    """``(name type DEFAULT x, ...)``: the arguments as CREATE FUNCTION writes them."""
    parts = []
    for a in f.arguments:
        part = f"{_quote(a.name)} {a.type}"
        if a.default is not None:
            part += f" DEFAULT {a.default}"
        parts.append(part)
    return f"({', '.join(parts)})"


def returns_sql(returns: str) -> str:
    """The RETURNS clause's text."""
    if returns.startswith("table("):
        return "TABLE(" + returns[len("table(") :]
    if returns.startswith("setof "):
        return "SETOF " + returns[len("setof ") :]
    return returns


def create_function_sql(qualified: str, f: NFunction, *, replace: bool = False) -> str:
    """``CREATE [OR REPLACE] FUNCTION <qualified>(...) RETURNS ... AS $fn$body$fn$``."""
    options = [f"LANGUAGE {f.language}", f.volatility.upper()]
    if f.security_definer:
        options.append("SECURITY DEFINER")
    if f.search_path is not None:
        path = ", ".join(_quote(p) for p in f.search_path.split(", ")) if f.search_path else "''"
        options.append(f"SET search_path = {path}")
    tag = dollar_tag(f.body)
    head = "CREATE OR REPLACE FUNCTION" if replace else "CREATE FUNCTION"
    return (
        f"{head} {qualified}{signature_sql(f)} RETURNS {returns_sql(f.returns)} "
        f"{' '.join(options)} AS {tag}{f.body}{tag}"
    )


def function_payload(f: NFunction) -> dict[str, Any]:
    """A function as the payload writes it (defaults left out)."""
    out: dict[str, Any] = {"name": f.name}
    if f.arguments:
        out["arguments"] = [
            {"name": a.name, "type": a.type, **({"default": a.default} if a.default else {})}
            for a in f.arguments
        ]
    out.update(returns=f.returns, language=f.language, body=f.body)
    if f.volatility != "volatile":
        out["volatility"] = f.volatility
    if f.security_definer:
        out["security_definer"] = True
    if f.search_path is not None:
        out["search_path"] = f.search_path
    if f.comment is not None:
        out["comment"] = f.comment
    if f.grants is not None:
        out["grants"] = [grant_json(g) for g in f.grants]
    return out
