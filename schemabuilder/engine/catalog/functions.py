"""The functions of one schema as the catalog prints them (``pg_proc``), and what uses them.

A function is known by its name and its argument types (``pg_get_function_identity_arguments``);
the rest is compared as PostgreSQL prints it, so a desired function created in a scratch schema
and read back here compares equal to a live one in the same state. Functions that belong to
an extension (``pg_depend`` deptype 'e') are not the schema's own and are never read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from schemabuilder.engine.catalog.grants import _NEW_OBJECT_GRANTS, Privileges, _collect
from schemabuilder.engine.contract.idents import quote_ident

VOLATILITY = {"i": "immutable", "s": "stable", "v": "volatile"}

_FUNCTIONS = """
SELECT p.oid, p.proname, p.prokind::text,
       l.lanname,
       pg_catalog.pg_get_function_identity_arguments(p.oid),
       pg_catalog.pg_get_function_arguments(p.oid),
       pg_catalog.pg_get_function_result(p.oid),
       p.prosrc, p.provolatile::text, p.prosecdef,
       coalesce(p.proconfig, '{}'::text[]),
       pg_catalog.obj_description(p.oid, 'pg_proc'),
       coalesce(p.proargmodes::text[], '{}'::text[]),
       coalesce(p.proargnames, '{}'::text[]),
       array(SELECT pg_catalog.format_type(t, NULL) FROM unnest(p.proargtypes) t),
       array(SELECT pg_catalog.pg_get_function_arg_default(p.oid, n)
               FROM generate_series(1, p.pronargs) n),
       EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
  FROM pg_catalog.pg_proc p
  JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
  JOIN pg_catalog.pg_language l ON l.oid = p.prolang
 WHERE n.nspname = %s
 ORDER BY p.proname, 5
"""

_GRANTS = """
SELECT p.oid::text, coalesce(r.rolname, a.grantee::text), a.privilege_type
  FROM pg_catalog.pg_proc p
 CROSS JOIN LATERAL aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
  LEFT JOIN pg_catalog.pg_roles r ON r.oid = a.grantee
 WHERE p.oid = ANY(%s) AND a.grantee <> p.proowner
"""

# What depends on a function outside itself: policies, triggers, defaults, views, others.
_DEPENDENTS = """
SELECT d.refobjid, pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid),
       c.relname, pol.polname
  FROM pg_catalog.pg_depend d
  LEFT JOIN pg_catalog.pg_policy pol
    ON d.classid = 'pg_catalog.pg_policy'::regclass AND pol.oid = d.objid
  LEFT JOIN pg_catalog.pg_class c ON c.oid = pol.polrelid
 WHERE d.refclassid = 'pg_catalog.pg_proc'::regclass AND d.refobjid = ANY(%s)
   AND d.deptype = 'n'
 ORDER BY 2
"""


@dataclass(frozen=True)
class LiveFunction:
    """One function as the catalog prints it. ``arguments`` is the whole argument list
    (names, types, defaults); ``identity`` only the types, what tells overloads apart."""

    name: str
    identity: str
    arguments: str
    result: str
    language: str
    body: str
    volatility: str
    security_definer: bool
    config: tuple[str, ...]
    comment: str | None
    oid: int = 0
    kind: str = "f"  # f function, p procedure, a aggregate, w window
    modes: tuple[str, ...] = ()
    arg_names: tuple[str, ...] = ()
    arg_types: tuple[str, ...] = ()
    arg_defaults: tuple[str | None, ...] = ()
    extension: bool = False

    @property
    def shape(self) -> tuple[object, ...]:
        """What the blueprint decides of it, as printed (grants aside)."""
        return (
            self.arguments,
            self.result,
            self.language,
            self.body,
            self.volatility,
            self.security_definer,
            self.config,
            self.comment,
        )

    @property
    def search_path(self) -> str | None:
        """The ``SET search_path`` of the function, as a blueprint writes it."""
        for item in self.config:
            key, _, value = item.partition("=")
            if key == "search_path":
                return "" if value == '""' else value
        return None


def live_functions(
    conn: psycopg.Connection[Any], schema: str, search_path: Sequence[str] = ()
) -> tuple[LiveFunction, ...]:
    """Every function of ``schema`` that no extension owns, by name then argument types.

    Types print relative to the search_path ``schema`` then ``search_path`` (a scratch schema
    passes the live one), restored afterwards, so both sides print the same names."""
    path = ", ".join(quote_ident(s) for s in (schema, *search_path))
    with conn.transaction():
        previous = conn.execute("SELECT current_setting('search_path')").fetchone()
        conn.execute("SELECT set_config('search_path', %s, true)", [path])
        rows = conn.execute(_FUNCTIONS, [schema]).fetchall()
        if previous is not None:
            conn.execute("SELECT set_config('search_path', %s, true)", [previous[0]])
    out = []
    for row in rows:
        (oid, name, kind, language, identity, arguments, result, body, volatility) = row[:9]
        secdef, config, comment, modes, names, types, defaults, extension = row[9:]
        out.append(
            LiveFunction(
                name=name,
                identity=identity,
                arguments=arguments,
                result=result or "",
                language=language,
                body=body or "",
                volatility=VOLATILITY.get(volatility, volatility),
                security_definer=bool(secdef),
                config=tuple(config),
                comment=comment,
                oid=int(oid),
                kind=kind,
                modes=tuple(modes),
                arg_names=tuple(names),
                arg_types=tuple(types),
                arg_defaults=tuple(defaults),
                extension=bool(extension),
            )
        )
    return tuple(f for f in out if not f.extension)


def function_grants(conn: psycopg.Connection[Any], oids: list[int]) -> dict[int, Privileges]:
    """oid -> role -> privileges on the function (the owner's left out)."""
    if not oids:
        return {}
    rows = conn.execute(_GRANTS, [oids]).fetchall()
    return {int(k): v for k, v in _collect(rows).items()}


def new_function_grants(conn: psycopg.Connection[Any], schema: str) -> Privileges:
    """Role -> privileges that a function this connection creates in ``schema`` starts
    with: EXECUTE to PUBLIC by PostgreSQL's default, unless default privileges say else."""
    query = _NEW_OBJECT_GRANTS.format(objtype="'f'", acltype="'f'")
    rows = conn.execute(query, [schema]).fetchall()
    return _collect([("", role, privilege) for role, privilege in rows]).get("", {})


@dataclass(frozen=True)
class Dependent:
    """Something that uses a function: ``what`` as PostgreSQL describes it (``policy p on
    table t``, ``trigger ...``), and (table, policy) when it is a policy."""

    what: str
    policy: tuple[str, str] | None = None


def dependents(conn: psycopg.Connection[Any], oids: list[int]) -> dict[int, list[Dependent]]:
    """oid -> what depends on the function."""
    if not oids:
        return {}
    out: dict[int, list[Dependent]] = {}
    for oid, what, table, policy in conn.execute(_DEPENDENTS, [oids]).fetchall():
        where = (str(table), str(policy)) if policy is not None else None
        out.setdefault(int(oid), []).append(Dependent(str(what), where))
    return out
