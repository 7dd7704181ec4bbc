"""Blueprint functions: validation at JSON paths, what bodies are found to do, policies that
call the blueprint's own functions, and hostile bodies that planning never runs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from schemabuilder.engine import BlueprintInvalid, validate_payload
from schemabuilder.engine.contract.function_bodies import body_facts, outside_calls
from schemabuilder.engine.contract.functions import blueprint_function_names, dollar_tag
from schemabuilder.engine.contract.live_calls import check_calls
from schemabuilder.engine.contract.paths import BlueprintPaths
from schemabuilder.engine.diff.phases import LockMode, Phase, Statement
from schemabuilder.engine.functions import merge_by_phase
from schemabuilder.engine.hazards import HazardKind, Severity
from schemabuilder.engine.importer.build import import_schema
from schemabuilder.engine.plan import plan
from schemabuilder.engine.render_text import render_text
from tests.engine.conftest import fresh_database


@pytest.fixture
def url(any_target_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database for one test."""
    yield from fresh_database(any_target_url, "sbfunctions", request)


TABLE = {
    "name": "notes",
    "rls": False,
    "columns": [
        {"name": "id", "type": "INTEGER", "primary_key": True},
        {"name": "org_id", "type": "UUID"},
    ],
}


def _payload(*functions: dict[str, Any], tables: list[Any] | None = None) -> dict[str, Any]:
    return {
        "schema_version": "1",
        "description": "d",
        "auto_columns": False,
        "tables": tables or [TABLE],
        "functions": list(functions),
    }


def _fn(**fields: Any) -> dict[str, Any]:
    return {"name": "f", "returns": "integer", "language": "sql", "body": "select 1", **fields}


def _issues(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(BlueprintInvalid) as raised:
        validate_payload(data)
    return [(i.path, i.message) for i in raised.value.issues]


@pytest.mark.parametrize(
    ("fields", "path", "words"),
    [
        ({"security_definer": True}, "payload.functions[1].search_path", "fixed search_path"),
        ({"body": "selec 1"}, "payload.functions[1].body", "not valid SQL"),
        (
            {"language": "plpgsql", "body": "begin retur 1; end"},
            "payload.functions[1].body",
            "not valid PL/pgSQL",
        ),
        (
            {"language": "plpgsql", "body": "begin if (1 then return 1; end if; end"},
            "payload.functions[1].body",
            "PL/pgSQL",
        ),
        ({"language": "c"}, "payload.functions[1].language", "use sql or plpgsql"),
        ({"volatility": "stabel"}, "payload.functions[1].volatility", "did you mean"),
        ({"name": "MyFn"}, "payload.functions[1].name", "snake_case"),
        ({"name": "g"}, "payload.functions[1].name", "declared twice"),
        ({"returns": "integer; drop table x"}, "payload.functions[1].returns", "type"),
        (
            {
                "returns": "trigger",
                "language": "plpgsql",
                "arguments": [{"name": "a", "type": "int"}],
                "body": "begin return new; end",
            },
            "payload.functions[1].arguments",
            "no declared arguments",
        ),
        (
            {"arguments": [{"name": "a", "type": "int", "default": "nextval('x')"}]},
            "payload.functions[1].arguments[0].default",
            "nextval",
        ),
        (
            {"search_path": "public; drop"},
            "payload.functions[1].search_path",
            "not a schema name",
        ),
        (
            {"grants": [{"role": "anon", "privileges": ["SELECT"]}]},
            "payload.functions[1].grants[0].privileges",
            "EXECUTE",
        ),
    ],
)
def test_a_function_is_refused_at_its_path_saying_what_to_do(
    fields: dict[str, Any], path: str, words: str
) -> None:
    issues = _issues(_payload(_fn(name="g"), _fn(**fields)))
    assert [p for p, _ in issues] == [path], issues
    assert words in issues[0][1]


def test_defaults_only_at_the_end_and_names_once() -> None:
    issues = _issues(
        _payload(
            _fn(
                arguments=[
                    {"name": "a", "type": "int", "default": "1"},
                    {"name": "b", "type": "int"},
                    {"name": "b", "type": "int", "default": "2"},
                ]
            )
        )
    )
    assert [p for p, _ in issues] == [
        "payload.functions[0].arguments[1].default",
        "payload.functions[0].arguments[2].name",
    ]


def test_bodies_are_parsed_for_calls_dynamic_sql_and_statements() -> None:
    bp = validate_payload(
        _payload(
            _fn(name="lookup", volatility="stable"),
            _fn(
                name="worker",
                language="plpgsql",
                returns="void",
                body="""
declare n int;
begin
  n := lookup() + length('x');
  if public.lookup() > 0 then perform pg_sleep(1); end if;
  execute 'select 1';
  perform dblink_exec('host=x', 'select 1');
  copy (select 1) to program 'true';
end""",
            ),
        )
    )
    lookup, worker = bp.functions
    assert blueprint_function_names(bp) == {"lookup", "worker"}
    assert not body_facts(lookup).dynamic and outside_calls(lookup, {"lookup"}, "public") == []
    facts = body_facts(worker)
    assert facts.dynamic
    assert (None, "lookup") in facts.calls and ("public", "lookup") in facts.calls
    outside = outside_calls(worker, blueprint_function_names(bp), "public")
    assert sorted(outside) == ["a COPY statement", "dblink_exec()", "pg_sleep()"]
    # Qualified by another schema, the blueprint's own name is someone else's function.
    assert "public.lookup()" in outside_calls(worker, {"lookup"}, "other")


def test_a_dollar_tag_never_occurs_in_the_body() -> None:
    assert dollar_tag("select 1") == "$fn$"
    assert dollar_tag("select '$fn$' || '$fn1$'") == "$fn2$"
    assert dollar_tag("select 1 -- $fn") == "$fn1$"  # $fn + $fn$ would close early


def test_a_policy_may_call_a_blueprint_function_without_a_live_target() -> None:
    table = {
        **TABLE,
        "rls": True,
        "policies": [{"name": "members", "using": "is_member_of(org_id)"}],
    }
    lookup = _fn(
        name="is_member_of",
        arguments=[{"name": "org", "type": "uuid"}],
        returns="boolean",
        volatility="stable",
        body="select org is not null",
    )
    bp = validate_payload(_payload(lookup, tables=[table]))
    check_calls(bp, "public", BlueprintPaths(bp), None)  # no live target: still allowed
    volatile = validate_payload(_payload({**lookup, "volatility": "volatile"}, tables=[table]))
    with pytest.raises(BlueprintInvalid) as raised:
        check_calls(volatile, "public", BlueprintPaths(volatile), None)
    assert raised.value.issues[0].path == "payload.tables[0].policies[0].using"
    assert "volatile function of the blueprint" in raised.value.issues[0].message


def test_merge_by_phase_keeps_the_order_and_places_functions_before_policies() -> None:
    def st(phase: Phase, sql: str) -> Statement:
        return Statement(sql=sql, phase=phase, table="", reason="", lock=LockMode.NONE)

    base = [st(Phase.CREATE_TABLES, "t"), st(Phase.CREATE_POLICIES, "p"), st(Phase.GRANTS, "g")]
    extra = [st(Phase.FUNCTIONS, "f1"), st(Phase.FUNCTIONS, "f2"), st(Phase.DROP_FUNCTIONS, "d")]
    assert [s.sql for s in merge_by_phase(base, extra)] == ["t", "f1", "f2", "p", "g", "d"]


HOSTILE = """
begin
  insert into public.trail values ('ran');
  perform pg_sleep(30);
  perform dblink_exec('dbname=postgres', 'create table pwned (x int)');
  copy (select 1) to program 'touch /tmp/sb_hostile_ran';
  execute 'create table pwned_too (x int)';
  return 1;
end
"""


def test_a_hostile_body_is_never_run_while_planning_and_is_danger(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE trail (what text)")
        bp = validate_payload(
            _payload(
                # A body naming a table that does not exist is not resolved either.
                _fn(name="reader", body="select count(*)::int from no_such_table"),
                _fn(name="evil", language="plpgsql", body=HOSTILE),
                _fn(name="sleepy", body="select pg_sleep(30)::text::int"),
            )
        )
        found = plan(conn, bp, schema="public", managed=set())
        assert conn.execute("SELECT count(*) FROM trail").fetchone() == (0,)
        left = conn.execute(
            "SELECT count(*) FROM pg_class WHERE relname IN ('pwned', 'pwned_too', 'notes')"
        ).fetchone()
        assert left == (0,)
        functions = conn.execute(
            "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public' OR n.nspname LIKE 'sb_scratch_%'"
        ).fetchone()
        assert functions == (0,)
    code = {h.numbers["function"]: h for h in found.hazards if h.kind is HazardKind.CHANGES_CODE}
    assert code["evil"].severity is Severity.DANGER
    assert "dynamic SQL" in code["evil"].message and "pg_sleep()" in code["evil"].message
    assert code["sleepy"].severity is Severity.DANGER
    assert code["reader"].severity is Severity.WARNING
    assert found.is_dangerous
    assert "+  perform pg_sleep(30);" in code["evil"].detail


def test_a_changed_body_shows_its_diff_to_the_reviewer(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE FUNCTION answer() RETURNS integer LANGUAGE sql AS $$select 41$$")
        bp = validate_payload(_payload(_fn(name="answer", body="select 42")))
        found = plan(conn, bp, schema="public", managed=set())
    (hazard,) = [h for h in found.hazards if h.kind is HazardKind.CHANGES_CODE]
    assert "-select 41" in hazard.detail and "+select 42" in hazard.detail
    assert hazard.to_json()["detail"] == hazard.detail
    text = render_text(found)
    assert "function answer() (replaced)" in text
    assert "| +select 42" in text
    assert [f.action for f in found.functions] == ["replaced"]


def test_an_unmanaged_live_function_is_left_alone_and_a_managed_one_dropped(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE FUNCTION mine() RETURNS integer LANGUAGE sql AS $$select 1$$;"
            "CREATE FUNCTION theirs() RETURNS integer LANGUAGE sql AS $$select 2$$;"
            "CREATE TABLE uses (x integer DEFAULT mine())"
        )
        bp = validate_payload(_payload())
        assert plan(conn, bp, schema="public", managed=set()).sql.count("FUNCTION") == 0
        found = plan(conn, bp, schema="public", managed=set(), managed_functions={"mine"})
    assert "DROP FUNCTION public.mine()" in found.sql and "theirs" not in found.sql
    (hazard,) = [h for h in found.hazards if h.numbers.get("function") == "mine"]
    assert hazard.kind is HazardKind.BLOCKED_BY_DEPENDENTS
    assert hazard.severity is Severity.DANGER
    assert "default value for column x of table uses" in hazard.message


def test_the_import_says_which_functions_it_leaves_out(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE t (id integer PRIMARY KEY);"
            "CREATE FUNCTION plain(a integer DEFAULT 1) RETURNS integer LANGUAGE sql "
            "  IMMUTABLE AS $$select a$$;"
            "CREATE FUNCTION two(a integer, OUT b integer) LANGUAGE sql AS $$select a$$;"
            "CREATE FUNCTION over(a integer) RETURNS integer LANGUAGE sql AS $$select a$$;"
            "CREATE FUNCTION over(a text) RETURNS integer LANGUAGE sql AS $$select 1$$;"
            "CREATE PROCEDURE proc() LANGUAGE sql AS $$select 1$$;"
            "CREATE FUNCTION c_like() RETURNS integer LANGUAGE internal AS 'int4in';"
        )
        result = import_schema(conn, "public")
        bp = validate_payload(result.payload)
        again = plan(conn, bp, schema="public", managed={"t"})
    assert [f["name"] for f in result.payload["functions"]] == ["plain"]
    left = {(o.kind, o.name.split("(")[0]): o.why or "" for o in result.left_out}
    assert "OUT" in left[("function", "two")]
    assert "overloaded" in left[("function", "over")]
    assert "procedure" in left[("procedure", "proc")]
    # Each form is listed: two of over, two, proc and c_like.
    assert sum(1 for o in result.left_out if o.kind in ("function", "procedure")) == 5
    assert again.sql == ""


def test_a_built_in_name_is_refused() -> None:
    issues = _issues(_payload(_fn(name="lower")))
    assert issues[0][0] == "payload.functions[0].name" and "built-in" in issues[0][1]


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        (
            {"arguments": [{"name": "a", "type": "int"}, {"name": "b", "type": "no_such_type"}]},
            "payload.functions[0].arguments[1].type",
        ),
        ({"returns": "setof no_such_table"}, "payload.functions[0].returns"),
    ],
)
def test_a_type_the_server_does_not_know_is_refused_at_its_path(
    url: str, fields: dict[str, Any], path: str
) -> None:
    bp = validate_payload(_payload(_fn(**fields)))
    with psycopg.connect(url, autocommit=True) as conn, pytest.raises(BlueprintInvalid) as raised:
        plan(conn, bp, schema="public", managed=set())
    assert [i.path for i in raised.value.issues] == [path]
    assert "does not exist" in raised.value.issues[0].message


def test_a_body_cannot_end_the_statement_it_is_pasted_into() -> None:
    from pglast import parse_sql

    from schemabuilder.engine.contract.functions import create_function_sql

    body = "select '$fn$; drop table notes; --' || '$fn1$'"
    bp = validate_payload(_payload(_fn(body=body, returns="text")))
    (stmt,) = parse_sql(create_function_sql("public.f", bp.functions[0]))
    assert type(stmt.stmt).__name__ == "CreateFunctionStmt"
    as_clause = next(o for o in stmt.stmt.options if o.defname == "as")
    assert [s.sval for s in as_clause.arg] == [body]


def test_a_function_dropped_with_the_policy_that_called_it_is_not_blocked(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE notes (id integer PRIMARY KEY, org_id uuid);"
            "CREATE FUNCTION allowed(org uuid) RETURNS boolean LANGUAGE sql STABLE "
            "  AS $$select true$$;"
            "ALTER TABLE notes ENABLE ROW LEVEL SECURITY;"
            "CREATE POLICY readers ON notes FOR SELECT USING (allowed(org_id));"
        )
        table = {**TABLE, "rls": True, "policies": [{"name": "readers", "using": "true"}]}
        still = {
            **TABLE,
            "rls": True,
            "policies": [{"name": "readers", "using": "allowed(org_id)"}],
        }
        rewritten = plan(
            conn,
            validate_payload(_payload(tables=[table])),
            schema="public",
            managed={"notes"},
            managed_functions={"allowed"},
        )
        kept = plan(
            conn,
            validate_payload(_payload(tables=[still])),
            schema="public",
            managed={"notes"},
            managed_functions={"allowed"},
        )
    (dropped,) = [h for h in rewritten.hazards if h.numbers.get("function") == "allowed"]
    assert dropped.kind is HazardKind.CHANGES_CODE and dropped.severity is Severity.WARNING
    (blocked,) = [h for h in kept.hazards if h.numbers.get("function") == "allowed"]
    assert blocked.kind is HazardKind.BLOCKED_BY_DEPENDENTS
    assert "policy readers on table notes" in blocked.message


def test_a_function_may_return_rows_of_a_table_the_same_plan_creates(url: str) -> None:
    reader = _fn(
        name="all_notes",
        returns="setof notes",
        volatility="stable",
        body="select * from notes",
    )
    table = {**TABLE, "rls": True, "policies": [{"name": "readers", "using": "can_read(org_id)"}]}
    can_read = _fn(
        name="can_read",
        arguments=[{"name": "org", "type": "uuid"}],
        returns="boolean",
        volatility="stable",
        body="select org is not null",
    )
    bp = validate_payload(_payload(reader, can_read, tables=[table]))
    with psycopg.connect(url, autocommit=True) as conn:
        first = plan(conn, bp, schema="public", managed=set())
        assert "RETURNS SETOF NOTES" in first.sql
        with conn.transaction():
            conn.execute(first.sql.encode())
        again = plan(conn, bp, schema="public", managed={"notes"})
    assert again.sql == ""
