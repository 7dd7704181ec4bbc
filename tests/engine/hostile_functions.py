"""A corpus of hostile function calls in blueprint expressions, and the canaries they aim at.

``cases()`` returns (name, envelope, expected_path): every envelope is the valid base of
``hostile_corpus`` with one expression replaced by an attack that, evaluated while planning
(a CHECK's violating-row count runs ``WHERE NOT (<check>)`` on live rows), would write,
sleep, signal, read files or read another tenant's rows. Each must be refused with an issue
at ``expected_path``, by validation or, for a policy's call of a function only the live
target knows, by the plan; nothing may reach the canaries.

``install_canaries`` builds what the attacks aim at in a target database (another tenant's
schema with a sequence at 1000 and rows, a sequence of the target's own at 1000, the
target's own hostile functions and operator); ``assert_untouched`` checks it afterwards.
"""

from __future__ import annotations

from typing import Any

import psycopg

from tests.engine.hostile_corpus import FRAGMENT_SLOTS, Case, _planted

CANARY_START = 1000
OTHER = "other_tenant"

CHECK = FRAGMENT_SLOTS["table_check"]
COLUMN_CHECK = FRAGMENT_SLOTS["column_check"]
WHERE = FRAGMENT_SLOTS["index_where"]
DEFAULT = FRAGMENT_SLOTS["column_default"]
USING = FRAGMENT_SLOTS["policy_using"]
WITH_CHECK = FRAGMENT_SLOTS["policy_with_check"]
FENCE = FRAGMENT_SLOTS["fence_using"]

SETVAL = f"setval('{OTHER}.canary_seq', 1)"
READ_OTHER = f"query_to_xml('select * from {OTHER}.patients', true, true, '')"


def attacks(victim_pid: int = 0) -> list[tuple[str, str, str]]:
    """(name, slot path, expression); ``victim_pid`` is the backend an attack tries to kill."""
    kill = f"pg_terminate_backend({victim_pid})"
    return [
        ("check_setval", CHECK, f"{SETVAL} > 0"),
        ("check_setval_schema_qualified", CHECK, f"pg_catalog.{SETVAL} > 0"),
        ("check_setval_quoted", CHECK, f"\"setval\"('{OTHER}.canary_seq', 1) > 0"),
        ("check_setval_quoted_upper_case", CHECK, f"\"SETVAL\"('{OTHER}.canary_seq', 1) > 0"),
        ("column_check_setval", COLUMN_CHECK, f"{SETVAL} > 0 OR status <> ''"),
        ("where_setval", WHERE, f"{SETVAL} > 0"),
        ("default_setval", DEFAULT, f"{SETVAL}::text"),
        ("default_nextval_other_tenant", DEFAULT, f"nextval('{OTHER}.canary_seq')::text"),
        ("default_nextval_regclass", DEFAULT, f"nextval('{OTHER}.canary_seq'::regclass)::text"),
        ("default_nextval_own_schema_canary", DEFAULT, "nextval('canary_seq')::text"),
        ("default_nextval_computed_name", DEFAULT, "nextval(('canary' || '_seq')::regclass)"),
        ("default_currval", DEFAULT, "currval('patients_status_seq')::text"),
        ("check_pg_terminate_backend", CHECK, f"{kill} OR true"),
        ("with_check_pg_terminate_backend", WITH_CHECK, f"{kill} OR true"),
        ("policy_pg_cancel_backend", USING, f"pg_cancel_backend({victim_pid})"),
        ("where_pg_sleep", WHERE, "pg_sleep(10) IS NULL"),
        ("check_pg_sleep_for", CHECK, "pg_sleep_for('10 seconds') IS NULL"),
        ("policy_pg_sleep_qualified", USING, "pg_catalog.pg_sleep(10) IS NULL"),
        ("check_query_to_xml", CHECK, f"{READ_OTHER} IS NOT NULL"),
        ("policy_query_to_xml", USING, f"{READ_OTHER} IS NOT NULL"),
        ("check_table_to_xml", CHECK, f"table_to_xml('{OTHER}.patients', true, true, '') > ''"),
        ("check_pg_read_file", CHECK, "length(pg_read_file('/etc/passwd')) > 0"),
        ("policy_pg_read_binary_file", USING, "pg_read_binary_file('/etc/passwd') IS NULL"),
        ("policy_pg_ls_dir_in_from", USING, "EXISTS (SELECT 1 FROM pg_ls_dir('/') AS d)"),
        ("check_dblink_exec", CHECK, "dblink_exec('dbname=postgres', 'select 1') <> ''"),
        (
            "policy_dblink_in_from",
            USING,
            "EXISTS (SELECT 1 FROM dblink('dbname=postgres', 'select 1') AS t(x int))",
        ),
        ("default_lo_import", DEFAULT, "lo_import('/etc/passwd')::text"),
        ("policy_lo_export", USING, "lo_export(1, '/tmp/x') > 0"),
        ("check_lo_create", CHECK, "lo_create(0) > 0"),
        ("check_set_config", CHECK, f"set_config('search_path', '{OTHER}', false) <> ''"),
        ("policy_set_config", WITH_CHECK, "set_config('role', 'postgres', false) <> ''"),
        ("default_set_config", DEFAULT, "set_config('statement_timeout', '0', false)"),
        ("check_current_setting", CHECK, "current_setting('is_superuser') = 'on'"),
        ("where_current_setting", WHERE, "current_setting('app.x', true) IS NULL"),
        ("check_now", CHECK, "created_at < now()"),
        ("check_current_timestamp", COLUMN_CHECK, "CURRENT_TIMESTAMP > '2020-01-01'"),
        ("check_txid_current", CHECK, "txid_current() > 0"),
        ("policy_txid_current", USING, "txid_current() > 0"),
        ("check_pg_notify", CHECK, "pg_notify('x', 'y') IS NULL"),
        ("check_advisory_lock", CHECK, "pg_advisory_lock(1) IS NULL"),
        ("policy_advisory_xact_lock", USING, "pg_try_advisory_xact_lock(1)"),
        (
            "check_ts_rewrite_query",
            CHECK,
            f"ts_rewrite('a'::tsquery, 'SELECT t, s FROM {OTHER}.r') IS NOT NULL",
        ),
        ("policy_ts_rewrite_query", USING, "ts_rewrite('a'::tsquery, 'SELECT 1') IS NOT NULL"),
        ("check_cast_of_a_subquery", CHECK, f"(SELECT {SETVAL})::int > 0"),
        ("policy_cast_of_a_subquery", USING, f"(SELECT {SETVAL})::int > 0"),
        ("default_cast_of_a_subquery", DEFAULT, f"(SELECT {SETVAL})::text"),
        ("check_user_volatile_function", CHECK, "evil_volatile(first_name)"),
        ("policy_user_volatile_function", USING, "evil_volatile(tenant_id::text)"),
        ("policy_user_volatile_qualified", WITH_CHECK, "public.evil_volatile(tenant_id::text)"),
        ("fence_user_volatile_function", FENCE, "evil_volatile(tenant_id::text)"),
        ("policy_other_tenant_function", USING, f"{OTHER}.evil_stable(tenant_id::text)"),
        ("policy_unknown_function", USING, "no_such_function(tenant_id)"),
        ("policy_builtin_not_listed", USING, "has_table_privilege('patients', 'select')"),
        ("check_public_now", CHECK, "public.now() > created_at"),
        ("default_public_gen_random_uuid", DEFAULT, "public.gen_random_uuid()::text"),
        ("check_operator_qualified", CHECK, "first_name OPERATOR(public.===) last_name"),
        ("check_operator_of_the_target", CHECK, "first_name === last_name"),
        ("policy_operator_of_the_target", USING, "tenant_id::text === 'x'"),
        ("check_functional_notation", CHECK, "patients.evil_volatile IS NULL"),
        ("check_field_selection", CHECK, "(first_name).evil_volatile IS NULL"),
        ("default_xml_parse", DEFAULT, "xmlparse(document '<x/>')::text"),
        ("default_random_plus_setval", DEFAULT, f"(random() + {SETVAL})::text"),
        (
            "default_clock_with_sleep",
            DEFAULT,
            "(clock_timestamp() + (pg_sleep(5) IS NULL)::int * interval '1 s')::text",
        ),
        ("check_current_database", CHECK, "current_database() <> ''"),
        ("policy_pg_backend_pid", USING, "pg_backend_pid() > 0"),
        ("policy_version", USING, "version() <> ''"),
        ("fence_setval", FENCE, f"{SETVAL} > 0"),
        ("policy_row_lock_in_subquery", USING, "EXISTS (SELECT 1 FROM patients FOR UPDATE)"),
        (
            "policy_delete_in_a_cte",
            USING,
            f"EXISTS (WITH d AS (DELETE FROM {OTHER}.patients RETURNING 1) SELECT 1 FROM d)",
        ),
    ]


def _for_tenant(env: dict[str, Any], tenant: str | None) -> dict[str, Any]:
    """``env`` for ``tenant`` at its default target, without the seed's idempotency key (so
    that each attack is a submission of its own)."""
    if tenant is not None:
        env["meta"]["tenant_id"] = tenant
        env["subject"] = {"tenant_id": tenant}
        env["meta"].pop("environment", None)
        env["meta"].pop("idempotency_key", None)
    return env


def cases(victim_pid: int = 0, tenant: str | None = None) -> list[Case]:
    """Every attack planted in the base envelope (``tenant`` replaces its tenant id)."""
    return [
        Case(name, _for_tenant(_planted(path, text), tenant), path)
        for name, path, text in attacks(victim_pid)
    ]


def allowed_envelope(tenant: str | None = None) -> dict[str, Any]:
    """The base envelope, with a policy that calls the target's own stable function."""
    env = _planted(USING, "is_member(tenant_id) AND lower(first_name) <> ''")
    return _for_tenant(env, tenant)


_SETUP = f"""
CREATE SCHEMA {OTHER};
CREATE SEQUENCE {OTHER}.canary_seq;
SELECT setval('{OTHER}.canary_seq', {CANARY_START});
CREATE SEQUENCE public.canary_seq;
SELECT setval('public.canary_seq', {CANARY_START});
CREATE TABLE {OTHER}.patients (id int PRIMARY KEY, secret text NOT NULL);
INSERT INTO {OTHER}.patients VALUES (1, 'alpha'), (2, 'beta'), (3, 'gamma');
CREATE TABLE public.patients (first_name text, last_name text, phone text, tenant_id uuid);
INSERT INTO public.patients VALUES ('Ada', 'Lovelace', '1', gen_random_uuid()),
    ('Alan', 'Turing', '2', gen_random_uuid());
CREATE FUNCTION public.evil_volatile(t text) RETURNS boolean LANGUAGE sql VOLATILE
    AS $$ SELECT setval('{OTHER}.canary_seq', 1) > 0 $$;
CREATE FUNCTION public.evil_eq(a text, b text) RETURNS boolean LANGUAGE sql VOLATILE
    AS $$ SELECT setval('{OTHER}.canary_seq', 1) > 0 $$;
CREATE OPERATOR public.=== (LEFTARG = text, RIGHTARG = text, FUNCTION = public.evil_eq);
CREATE FUNCTION {OTHER}.evil_stable(t text) RETURNS boolean LANGUAGE sql STABLE
    AS $$ SELECT count(*) > 0 FROM {OTHER}.patients $$;
CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE sql VOLATILE
    AS $$ SELECT pg_catalog.now() + setval('{OTHER}.canary_seq', 1) * interval '0 s' $$;
CREATE FUNCTION public.gen_random_uuid() RETURNS uuid LANGUAGE sql VOLATILE
    AS $$ SELECT pg_catalog.gen_random_uuid() WHERE setval('{OTHER}.canary_seq', 1) > 0 $$;
CREATE FUNCTION public.is_member(t uuid) RETURNS boolean LANGUAGE sql STABLE
    AS $$ SELECT t IS NOT NULL $$;
"""


def install_canaries(url: str) -> None:
    """What the attacks aim at, in the target database at ``url`` (schema public)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(_SETUP)


def canary_state(url: str) -> tuple[int, int, list[tuple[int, str]], int]:
    """(other tenant's sequence, the target's own sequence, the other tenant's rows, the
    target's own rows) as they stand; a sequence is read without moving it."""
    with psycopg.connect(url, autocommit=True) as conn:
        other = conn.execute(f"SELECT last_value FROM {OTHER}.canary_seq").fetchone()
        own = conn.execute("SELECT last_value FROM public.canary_seq").fetchone()
        rows = conn.execute(f"SELECT id, secret FROM {OTHER}.patients ORDER BY id").fetchall()
        mine = conn.execute("SELECT count(*) FROM public.patients").fetchone()
    assert other and own and mine
    return int(other[0]), int(own[0]), [(int(i), str(s)) for i, s in rows], int(mine[0])


UNTOUCHED = (CANARY_START, CANARY_START, [(1, "alpha"), (2, "beta"), (3, "gamma")], 2)


def assert_untouched(url: str, victim: psycopg.Connection[Any]) -> None:
    """The canaries as installed, and the victim connection (another backend) alive."""
    assert canary_state(url) == UNTOUCHED
    assert victim.execute("SELECT 1").fetchone() == (1,)


def issue_paths(issues: list[Any]) -> list[str]:
    return [str(i["path"] if isinstance(i, dict) else i.path) for i in issues]
