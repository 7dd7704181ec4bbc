-- The triggers of some tables of one schema, one row each: what a blueprint can say of them
-- (tgtype's bits, the UPDATE OF columns, the function and its arguments) and
-- pg_get_triggerdef's text, from which the WHEN condition is read (it is printed relative to
-- the search_path, set to the schema). Internal triggers (those of foreign keys) are
-- PostgreSQL's own; constraint triggers are reported, flagged, for the import to list.
SELECT c.relname AS "table",
       t.tgname AS name,
       t.tgtype::int AS type,
       ARRAY(SELECT a.attname::text
             FROM unnest(t.tgattr::int2[]) WITH ORDINALITY k(attnum, n)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = t.tgrelid AND a.attnum = k.attnum
             ORDER BY k.n) AS columns,
       pn.nspname AS function_schema,
       p.proname AS function,
       t.tgnargs AS nargs,
       t.tgargs AS args,
       t.tgqual IS NOT NULL AS has_when,
       t.tgconstraint <> 0 AS is_constraint,
       pg_catalog.pg_get_triggerdef(t.oid) AS definition,
       -- The columns the trigger depends on (UPDATE OF and WHEN): dropping or retyping one
       -- needs the trigger out of the way first.
       ARRAY(SELECT a.attname::text
             FROM pg_catalog.pg_depend d
             JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
             WHERE d.classid = 'pg_catalog.pg_trigger'::regclass AND d.objid = t.oid
               AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjsubid > 0
             ORDER BY 1) AS depends_on
FROM pg_catalog.pg_trigger t
JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid
JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace
WHERE n.nspname = %(schema)s
  AND c.relname = ANY(%(tables)s::text[])
  AND NOT t.tgisinternal
ORDER BY 1, 2
