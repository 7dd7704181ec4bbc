"""What a blueprint expression may call: explicit allowlists, one per kind of expression.

A blueprint's expressions are data until a person has reviewed the plan, yet planning
evaluates some of them against live rows (a CHECK's violating-row count). So every function,
operator and SQL value function an expression names is checked here, on pglast's tree
(``fragments.Call``), before anything reaches a server. Nothing not listed is allowed.

- ``check`` (column and table checks, index ``where``, generated columns): built-ins with an
  immutable form only. That is what PostgreSQL demands of index predicates and generated
  columns, and a check that changes its mind over time (``now()``) or with the session
  (``current_setting``) cannot be trusted on existing rows.
- ``default``: immutable or stable built-ins, plus the generators a default exists for
  (``GENERATORS``; ``nextval`` only of the column's own sequence, checked in ``rules``).
- ``policy`` (``using``, ``with_check``, the fence): immutable or stable built-ins, the
  configured functions (``POLICY_FUNCTIONS``, extended by the ``SB_POLICY_FUNCTIONS``
  setting), and the target's own functions that are not volatile: those need the live
  target, so they are ``deferred`` here and resolved by ``live_calls`` while planning.

``BUILTINS`` maps each name to the volatilities of its pg_catalog forms, exactly as
``string_agg(DISTINCT provolatile, '')`` gives them ("i", "s" or "is": ``length(bytea,
name)`` is stable, ``length(text)`` immutable). tests/engine/test_allowlist.py checks every
entry against ``pg_proc`` on a real server. A name is listed only when no form of it reads
anything but its arguments (and, for stable forms, the clock, time zone or locale): nothing
that reads another relation, a file, a sequence or another session, or writes anything.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal

from schemabuilder.engine.contract.fragments import Call, Checked

Kind = Literal["check", "default", "policy"]

_MATH = "abs cbrt ceil ceiling degrees div exp floor gcd lcm ln log log10 mod pi power radians"
_MATH += " round scale sign sqrt trunc width_bucket min_scale trim_scale"
_MATH += " acos asin atan atan2 cos cot sin tan"
_TEXT = "ascii bit_length btrim char_length character_length chr decode encode initcap left"
_TEXT += " lower lpad ltrim md5 normalize is_normalized octet_length overlay position"
_TEXT += " quote_ident regexp_count regexp_instr regexp_like regexp_match regexp_replace"
_TEXT += " regexp_substr repeat replace reverse right rpad rtrim sha224 sha256 sha384 sha512"
_TEXT += " similar_to_escape split_part starts_with string_to_array strpos substr substring"
_TEXT += " textlen to_hex translate upper"
_ARRAY = "array_append array_cat array_dims array_length array_lower array_ndims"
_ARRAY += " array_position array_positions array_prepend array_remove array_replace"
_ARRAY += " array_upper cardinality"
_JSON = "json_array_length json_typeof jsonb_array_length jsonb_contains jsonb_exists"
_JSON += " jsonb_exists_all jsonb_exists_any jsonb_extract_path jsonb_extract_path_text"
_JSON += " jsonb_insert jsonb_path_exists jsonb_path_match jsonb_set jsonb_strip_nulls"
_JSON += " jsonb_typeof"
_TIME = "date_bin isfinite justify_days justify_hours justify_interval make_date"
_TIME += " make_interval make_time make_timestamp"
_RANGE = "daterange int4range int8range isempty lower_inc lower_inf numrange range_merge"
_RANGE += " tsrange tstzrange upper_inc upper_inf"
_OTHER = "num_nonnulls num_nulls setweight abbrev broadcast family host inet_same_family"
_OTHER += " masklen netmask network"
# Aggregates: only useful inside a policy's sub-query (PostgreSQL refuses them elsewhere).
_AGGREGATES = "array_agg avg bool_and bool_or count every max min string_agg sum"
# Immutable for some argument types, stable for others (time zone, text search
# configuration, encoding): PostgreSQL picks the form by the argument types, and itself
# refuses a stable form in an index predicate or a generated column.
_MIXED = "age date_part date_trunc extract length phraseto_tsquery plainto_tsquery"
_MIXED += " quote_literal quote_nullable timezone to_timestamp to_tsquery to_tsvector"
_MIXED += " websearch_to_tsquery"
# Stable: they read the clock, the time zone, the locale or the output functions of types.
_STABLE = "array_to_string concat concat_ws format json_build_object jsonb_build_array"
_STABLE += " jsonb_build_object make_timestamptz now statement_timestamp to_char to_date"
_STABLE += " to_json to_jsonb to_number transaction_timestamp"

BUILTINS: dict[str, str] = {
    **{n: "i" for n in f"{_MATH} {_TEXT} {_ARRAY} {_JSON} {_TIME} {_RANGE} {_OTHER}".split()},
    **{n: "i" for n in _AGGREGATES.split()},
    **{n: "is" for n in _MIXED.split()},
    **{n: "s" for n in _STABLE.split()},
}

# Volatile on purpose, and what a default is for. (schema, name): None is pg_catalog;
# uuid_generate_v4 lives in the schema of the uuid-ossp extension, wherever it is installed
# (the plan fails at its path when the extension is not there).
GENERATORS: dict[str, str] = {
    "gen_random_uuid": "a random UUID",
    "uuid_generate_v4": "a random UUID (extension uuid-ossp)",
    "clock_timestamp": "the time of the insert",
    "random": "a random number",
    "nextval": "the next value of the column's own sequence",
}

# Policies may also read the session's settings and the request's identity.
POLICY_FUNCTIONS: tuple[str, ...] = ("current_setting", "auth.uid", "auth.jwt", "auth.role")
POLICY_SETTING = "SB_POLICY_FUNCTIONS"

# Every operator symbol of pg_catalog: none of them is volatile (checked by the test).
_OPERATOR_SYMBOLS = (
    "!! !~ !~* !~~ !~~* # ## #- #> #>> % & && &< &<| &> * *< *<= *<> *= *> *>= + - -> ->> -|- "
    "/ < <-> << <<= <<| <= <> <@ <^ = > >= >> >>= >^ ? ?# ?& ?- ?-| ?| ?|| @ @-@ @> @? @@ "
    "@@@ ^ ^@ | |&> |/ |>> || ||/ ~ ~* ~<=~ ~<~ ~= ~>=~ ~>~ ~~ ~~* != "
    "BETWEEN NOT_BETWEEN BETWEEN_SYMMETRIC NOT_BETWEEN_SYMMETRIC"
)
OPERATORS = frozenset(_OPERATOR_SYMBOLS.split())

_TIME_VALUES = {"CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP", "LOCALTIME", "LOCALTIMESTAMP"}
_USER_VALUES = {"CURRENT_ROLE", "CURRENT_USER", "USER", "SESSION_USER"}
_SCHEMA_VALUES = {"CURRENT_CATALOG", "CURRENT_SCHEMA"}
VALUES: dict[Kind, frozenset[str]] = {
    "check": frozenset(),
    "default": frozenset(_TIME_VALUES | _USER_VALUES),
    "policy": frozenset(_TIME_VALUES | _USER_VALUES | _SCHEMA_VALUES),
}

_SYSTEM_SCHEMAS = frozenset({"pg_catalog", "information_schema", "pg_toast"})
# Built-ins known to write, sleep, signal, read files or other sessions: refused at once in
# a policy too, rather than left to the live check (which refuses them as well).
_NOTORIOUS_PREFIXES = (
    *("pg_", "lo_", "dblink", "txid_", "set_config", "setval", "nextval", "currval", "lastval"),
    *("query_to_", "table_to_", "cursor_to_", "schema_to_", "database_to_", "ts_rewrite"),
    *("ts_stat", "xpath", "xml"),
)

_WHAT: dict[Kind, str] = {
    "check": (
        "a check, an index predicate or a generated column may call only immutable built-in "
        "functions, for example lower(), length(), abs(), coalesce() or date_part()"
    ),
    "default": (
        "a default may call immutable or stable built-in functions (lower(), now(), "
        "to_jsonb()...) and the generators gen_random_uuid(), uuid_generate_v4(), "
        "clock_timestamp(), random() and nextval() of the column's own sequence"
    ),
    "policy": (
        "a policy may call immutable or stable built-in functions, the configured functions "
        "({configured}), and the blueprint's and the target schema's own functions that are "
        "not volatile"
    ),
}
SEE = " (README, 'What an expression may call')"


def configured_policy_functions() -> frozenset[str]:
    """``POLICY_FUNCTIONS`` plus the comma-separated names in ``SB_POLICY_FUNCTIONS``."""
    return _parse_configured(os.environ.get(POLICY_SETTING, ""))


@lru_cache(maxsize=8)
def _parse_configured(extra: str) -> frozenset[str]:
    names = [n.strip() for n in extra.split(",") if n.strip()]
    return frozenset((*POLICY_FUNCTIONS, *names))


def _label(call: Call) -> str:
    name = f"{call.schema}.{call.name}" if call.schema else call.name
    return f"{name}()" if call.kind == "function" else name


def allowed_for(kind: Kind) -> str:
    """What ``kind`` may call, in words (the end of every refusal)."""
    what = _WHAT[kind]
    if kind == "policy":
        what = what.format(configured=", ".join(sorted(configured_policy_functions())))
    return what


def _builtin(call: Call) -> str | None:
    """The volatilities of a listed built-in (None when ``call`` is not one)."""
    if call.schema not in (None, "pg_catalog"):
        return None
    return BUILTINS.get(call.name)


def _function_problem(call: Call, kind: Kind, deferred: list[Call]) -> str | None:
    label = _label(call)
    volatility = _builtin(call)
    if kind == "check":
        if volatility is not None and "i" in volatility:
            return None
        if volatility == "s" or call.name in GENERATORS or call.name == "current_setting":
            why = (
                "reads a setting of the connection"
                if call.name == "current_setting"
                else "does not always give the same result for the same row"
            )
            return (
                f"calls {label}, which {why}: PostgreSQL would accept rows today that the "
                f"same check refuses tomorrow; {allowed_for(kind)}"
            )
        return f"calls {label}, which is not on the list: {allowed_for(kind)}"
    if volatility is not None:
        return None
    if kind == "default":
        if call.name in GENERATORS and call.schema in (None, "pg_catalog"):
            if call.name == "nextval" and (call.text_arg is None or "." in call.text_arg):
                return (
                    "calls nextval() on something other than a sequence named in quotes: "
                    "write nextval('<table>_<column>_seq'), the column's own sequence, or "
                    "use a SERIAL type"
                )
            return None
        if call.name == "uuid_generate_v4" and call.schema not in _SYSTEM_SCHEMAS:
            return None
        return f"calls {label}, which is not on the list: {allowed_for(kind)}"
    qualified = f"{call.schema}.{call.name}" if call.schema else call.name
    if qualified in configured_policy_functions():
        return None
    if call.schema in _SYSTEM_SCHEMAS or call.name.lower().startswith(_NOTORIOUS_PREFIXES):
        return f"calls {label}, which is not on the list: {allowed_for(kind)}"
    deferred.append(call)  # perhaps one of the target's own: only the live target knows
    return None


def _operator_problem(call: Call, kind: Kind) -> str | None:
    name = call.name.replace(" ", "_")
    if call.schema in (None, "pg_catalog") and name in OPERATORS:
        return None
    label = f"OPERATOR({call.schema}.{call.name})" if call.schema else f"the operator {name}"
    return (
        f"uses {label}, which is not a built-in operator: an operator runs the function "
        f"behind it, and {allowed_for(kind)}"
    )


def judge(checked: Checked, kind: Kind) -> tuple[str | None, tuple[Call, ...]]:
    """(why ``checked`` is refused as a ``kind`` expression or None, the calls left to the
    live target). Only policies leave calls to the live target."""
    deferred: list[Call] = []
    if checked.qualified_refs and kind != "policy":
        return (
            "names a column as table.column or selects a field as (x).f: PostgreSQL reads "
            "that as a call of function f when no such column exists; write the bare column "
            f"name{SEE}",
            (),
        )
    for call in checked.calls:
        problem: str | None = None
        if call.kind == "function":
            problem = _function_problem(call, kind, deferred)
        elif call.kind == "operator":
            problem = _operator_problem(call, kind)
        elif call.kind == "value":
            value = call.name.removeprefix("SVFOP_")
            if value not in VALUES[kind]:
                problem = (
                    f"uses {value}, which changes with time or the connection: {allowed_for(kind)}"
                )
        else:
            problem = f"uses {call.name}, which no blueprint expression may use{SEE}"
        if problem:
            return problem if SEE in problem else problem + SEE, ()
    return None, tuple(deferred)


def sequences_named(checked: Checked) -> list[str]:
    """The sequences ``nextval`` is called on (for the rule: only the column's own)."""
    return [c.text_arg or "" for c in checked.calls if c.kind == "function" and c.name == "nextval"]
