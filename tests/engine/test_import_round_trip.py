"""Import round trip: a schema imported as a blueprint plans nothing against itself.

For every case folder (its ``live.sql``), every corpus schema (``setup.sql`` then
``author.sql``) and every schema of ``import/`` (written for the import: the forms a
blueprint can say, and what it cannot), on a fresh database: import the schema, validate the payload, and plan it
with every imported table managed. The plan must be empty, with no hazard: the blueprint
says what the catalog holds. What the import leaves out is listed, never dropped: a table
left out is not in the payload, so the plan does not touch it either. Enum types, grants and
default privileges are said: every enum type of the schema is in ``types``, and nothing of
theirs is left out unless the source holds it on purpose.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from schemabuilder.engine import import_schema, plan, validate_payload

ENGINE_TESTS = Path(__file__).resolve().parent
SOURCES = sorted(
    [f"cases/{d.name}" for d in (ENGINE_TESTS / "cases").iterdir() if (d / "live.sql").is_file()]
    + [
        f"corpus/{d.name}"
        for d in (ENGINE_TESTS / "corpus").iterdir()
        if (d / "author.sql").is_file()
    ]
    + [f"import/{f.name}" for f in (ENGINE_TESTS / "import").glob("*.sql")]
    + [
        f"import/{d.name}"
        for d in (ENGINE_TESTS / "import").iterdir()
        if (d / "author.sql").is_file()
    ]
)
# Grants a blueprint cannot say, on purpose: the sources that hold them.
UNSAYABLE_GRANTS = {"import/grants.sql"}
SCHEMA = "public"
ENUMS = (
    "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
    "WHERE n.nspname = %s AND t.typtype = 'e' ORDER BY t.typname"
)


def _build(conn: psycopg.Connection[object], source: Path) -> None:
    if source.suffix == ".sql":
        conn.execute(source.read_bytes())
        return
    for name in ("setup.sql", "author.sql", "live.sql"):
        path = source / name
        if path.is_file() and path.read_text().strip():
            conn.execute(path.read_bytes())


@pytest.mark.parametrize("case", SOURCES)
def test_an_imported_schema_plans_nothing(case: str, case_url: str) -> None:
    with psycopg.connect(case_url, autocommit=True) as conn:
        _build(conn, ENGINE_TESTS / case)
        with conn.transaction(), conn.cursor() as cur:
            cur.execute("SET TRANSACTION READ ONLY")
            result = import_schema(conn, SCHEMA)
        if not result.payload["tables"]:
            assert all(o.kind != "table" for o in result.left_out) or result.left_out
            pytest.skip(f"nothing to import: {[o.to_json() for o in result.left_out]}")
        bp = validate_payload(result.payload)
        names = {t.name for t in bp.tables}
        found = plan(conn, bp, schema=SCHEMA, managed=names)
    assert found.sql == "", (found.sql, result.left_out)
    assert not found.hazards
    with psycopg.connect(case_url) as conn:
        enums = [r[0] for r in conn.execute(ENUMS, [SCHEMA])]
    assert [t["name"] for t in result.payload.get("types", [])] == enums
    if case not in UNSAYABLE_GRANTS:
        unsaid = {"enum type", "grant", "sequence grant", "grant option", "column grant"}
        assert not [o for o in result.left_out if o.kind in unsaid]
