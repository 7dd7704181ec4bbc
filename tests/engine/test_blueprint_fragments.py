"""SQL fragments are checked with PostgreSQL's parser; identifiers are quoted like PostgreSQL."""

from __future__ import annotations

import pytest

from schemabuilder.engine import qualified, quote_ident
from schemabuilder.engine.contract.fragments import check_expression, check_type
from schemabuilder.engine.contract.idents import fit_identifier, quote_literal, snake_case


@pytest.mark.parametrize(
    ("text", "spelled"),
    [
        ("UUID", "UUID"),
        ("text", "TEXT"),
        ("VARCHAR(255)", "VARCHAR(255)"),
        ("numeric(12, 2)", "NUMERIC(12, 2)"),
        ("TEXT[]", "TEXT[]"),
        ("integer[3]", "INTEGER[3]"),
        ("timestamp   with time zone", "TIMESTAMP WITH TIME ZONE"),
        ("double precision", "DOUBLE PRECISION"),
        ("interval day to second", "INTERVAL DAY TO SECOND"),
        ("BIGSERIAL", "BIGSERIAL"),
        ("pg_catalog.int4", "PG_CATALOG.INT4"),
        ('"char"', '"char"'),
        ("geometry(Point, 4326)", "GEOMETRY(POINT, 4326)"),
    ],
)
def test_it_accepts_type_names_and_spells_them_canonically(text: str, spelled: str) -> None:
    checked = check_type(text)
    assert checked.problem is None
    assert checked.text == spelled


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("TEXT; DROP TABLE x", "contains ';'"),
        ("TEXT NOT NULL", "must be exactly one type name"),
        ("TEXT DEFAULT 1", "must be exactly one type name"),
        ('TEXT COLLATE "C"', "must be exactly one type name"),
        ("TEXT, b TEXT", "contains ','"),
        ("TEXT) ; (", "unbalanced brackets"),
        ("TEXT -- c", "SQL comment"),
        ("other.type", "another schema"),
        ("SETOF int", "must be exactly one type name"),
        ("NUMERIC(1 + 1)", "not a constant"),
        ("", "must not be empty"),
        ("1", "is not a valid type name"),
    ],
)
def test_it_refuses_anything_but_one_type_name(text: str, says: str) -> None:
    problem = check_type(text).problem
    assert problem is not None and says in problem


@pytest.mark.parametrize(
    "text",
    [
        "status IN ('DRAFT', 'ACTIVE', 'DEPRECATED')",
        "gen_random_uuid()",
        "NOW()",
        "'{}'::jsonb",
        "CASE WHEN a > 0 THEN 'pos' ELSE 'neg' END",
        "a < b AND (c IS NULL OR c <> '')",
        '"select" > 0',
        "E'it\\'s'",
        "'semi;colon -- and /* not a comment */'",
        "coalesce(x, 0) BETWEEN -1 AND 10",
        "ARRAY[1, 2, 3]",
    ],
)
def test_it_accepts_one_expression_without_sub_queries(text: str) -> None:
    checked = check_expression(text, allow_subqueries=False)
    assert checked.problem is None, checked.problem


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("true; DROP TABLE x", "contains ';'"),
        ("true -- x", "SQL comment"),
        ("true /* x */", "SQL comment"),
        ("1) OR (1", "unbalanced brackets"),
        ("(1", "unbalanced brackets"),
        ("'open", "unterminated quoted string"),
        ('"open', "unterminated quoted identifier"),
        ("$$x$$", "dollar quoting"),
        ("1, 2", "contains ','"),
        ("1 AS x", "is not a valid SQL expression"),
        ("$1", "parameter"),
        ("a\x00b", "control character U+0000"),
        ("(SELECT 1)", "sub-query"),
        ("EXISTS (SELECT 1)", "sub-query"),
        ("", "must not be empty"),
        ("SELECT 1", "is a query, not an expression"),
        ("select 1 UNION SELECT 2", "is a query, not an expression"),
        ("VALUES (1)", "is a query, not an expression"),
        ("Select(1)", "is a query, not an expression"),
    ],
)
def test_it_refuses_anything_but_one_expression(text: str, says: str) -> None:
    problem = check_expression(text, allow_subqueries=False).problem
    assert problem is not None and says in problem, problem


def test_policies_may_use_sub_queries_but_nothing_else() -> None:
    assert check_expression("EXISTS (SELECT 1 FROM t)", allow_subqueries=True).problem is None
    assert check_expression("true); DROP TABLE t; --", allow_subqueries=True).problem
    assert check_expression("SELECT true", allow_subqueries=True).problem


def test_white_space_runs_collapse_outside_string_literals() -> None:
    checked = check_expression("a   <\n\t b OR c = 'x   y'", allow_subqueries=False)
    assert checked.text == "a < b OR c = 'x   y'"


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        ("id", "id"),
        ("first_name", "first_name"),
        ("user", '"user"'),
        ("order", '"order"'),
        ("select", '"select"'),
        ("between", '"between"'),  # a column-name keyword
        ("left", '"left"'),  # a type/function-name keyword
        ("name", "name"),  # unreserved: bare, like PostgreSQL's quote_ident()
        ("Mixed", '"Mixed"'),
        ("1st", '"1st"'),
        ('a"b', '"a""b"'),
    ],
)
def test_it_quotes_identifiers_exactly_when_postgres_needs_it(name: str, quoted: str) -> None:
    assert quote_ident(name) == quoted


def test_qualified_names_quote_each_part() -> None:
    assert qualified("tenant_1", "order") == 'tenant_1."order"'


@pytest.mark.parametrize(
    ("name", "snake"),
    [
        ("firstName", "first_name"),
        ("FirstName", "first_name"),
        ("HTTPServer", "http_server"),
        ("ID", "id"),
        ("first_name", "first_name"),
        ("patient2Visit", "patient2_visit"),
    ],
)
def test_snake_case(name: str, snake: str) -> None:
    assert snake_case(name) == snake


def test_long_generated_names_fit_in_63_bytes_and_stay_distinct() -> None:
    a = fit_identifier("x" * 70 + "_a_key")
    b = fit_identifier("x" * 70 + "_b_key")
    assert len(a) <= 63 and len(b) <= 63
    assert a != b
    assert fit_identifier("short_pkey") == "short_pkey"


def test_literals_read_the_same_whatever_standard_conforming_strings_is() -> None:
    assert quote_literal("it's") == "'it''s'"
    assert quote_literal("C:\\dir") == "E'C:\\\\dir'"
