-- What every table's printed form may depend on in the whole database, as one md5: the
-- server (its start time and version: a restart or an upgrade starts afresh), the database,
-- and the row versions of the schemas, types, functions, operators, operator classes and
-- collations outside the system schemas (a renamed type or function prints differently in
-- every column default, check or policy that uses it), the enum values (a default or check
-- names them), the roles (a policy names them) and the extensions. Row types of tables and array types
-- are left out: every CREATE TABLE adds them, and they print as their table's name. So is the
-- schema of the target's own migration log (apply.MARKER_SCHEMA, made by the first apply): no
-- table's form depends on it, and counting it made every form of a new target's first plan
-- unreachable once that plan was applied.
WITH system AS (
    SELECT oid FROM pg_catalog.pg_namespace
    WHERE nspname IN ('pg_catalog', 'information_schema') OR nspname LIKE 'pg\_toast%%'
)
SELECT md5(concat_ws('|',
  pg_catalog.pg_postmaster_start_time(),
  current_setting('server_version_num'),
  (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()),
  current_database(),
  (SELECT string_agg(xmin::text || ':' || oid, ',' ORDER BY oid) FROM pg_catalog.pg_namespace
    WHERE nspname <> 'schemabuilder'),
  (SELECT string_agg(t.xmin::text || ':' || t.oid, ',' ORDER BY t.oid)
     FROM pg_catalog.pg_type t
    WHERE t.typnamespace NOT IN (SELECT oid FROM system)
      AND t.typcategory <> 'A'
      AND (t.typtype <> 'c' OR EXISTS (SELECT 1 FROM pg_catalog.pg_class r
                                        WHERE r.oid = t.typrelid AND r.relkind = 'c'))),
  (SELECT string_agg(xmin::text || ':' || oid, ',' ORDER BY oid) FROM pg_catalog.pg_proc
    WHERE pronamespace NOT IN (SELECT oid FROM system)),
  (SELECT string_agg(xmin::text || ':' || oid, ',' ORDER BY oid) FROM pg_catalog.pg_operator
    WHERE oprnamespace NOT IN (SELECT oid FROM system)),
  (SELECT string_agg(xmin::text || ':' || oid, ',' ORDER BY oid) FROM pg_catalog.pg_opclass
    WHERE opcnamespace NOT IN (SELECT oid FROM system)),
  (SELECT string_agg(xmin::text || ':' || oid, ',' ORDER BY oid) FROM pg_catalog.pg_collation
    WHERE collnamespace NOT IN (SELECT oid FROM system)),
  (SELECT string_agg(oid::text || ':' || rolname, ',' ORDER BY oid) FROM pg_catalog.pg_roles),
  (SELECT string_agg(xmin::text || ':' || oid, ',' ORDER BY oid) FROM pg_catalog.pg_extension),
  (SELECT string_agg(xmin::text || ':' || oid, ',' ORDER BY oid) FROM pg_catalog.pg_enum)
)) AS environment
