-- Every ordinary or partitioned table of one schema (partitions are owned by their parent),
-- with its row level security flags and comment. Cheap: one row per table, no joins to data.
-- names (when not NULL) keeps only those tables, for a caller that needs no list of the rest.
SELECT c.oid AS table_oid,
       c.relname AS name,
       c.relrowsecurity AS rls,
       c.relforcerowsecurity AS rls_forced,
       obj_description(c.oid, 'pg_class') AS comment
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s
  AND c.relkind IN ('r', 'p')
  AND NOT c.relispartition
  AND (%(names)s::text[] IS NULL OR c.relname = ANY(%(names)s::text[]))
ORDER BY c.relname COLLATE "C"
