-- Row level security policies of the selected tables. columns lists the table's columns the
-- policy's expressions use (from pg_depend): a column rename or type change must know them,
-- and they tell which policies enforce the tenant fence.
-- written_only keeps only the rows this transaction wrote (see written.sql, whose test it
-- repeats), so verification deparses what the statements changed and nothing else.
SELECT p.polrelid AS table_oid,
       p.polname AS name,
       CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                     WHEN 'd' THEN 'DELETE' ELSE 'ALL' END AS command,
       p.polpermissive AS permissive,
       ARRAY(SELECT CASE WHEN r.oid = 0 THEN 'public' ELSE rol.rolname END
             FROM unnest(p.polroles) AS r(oid)
             LEFT JOIN pg_catalog.pg_roles rol ON rol.oid = r.oid
             ORDER BY 1) AS roles,
       pg_catalog.pg_get_expr(p.polqual, p.polrelid, true) AS "using",
       pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid, true) AS with_check,
       ARRAY(SELECT DISTINCT a.attname
             FROM pg_catalog.pg_depend d
             JOIN pg_catalog.pg_attribute a
               ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
             WHERE d.classid = 'pg_catalog.pg_policy'::regclass
               AND d.objid = p.oid
               AND d.refclassid = 'pg_catalog.pg_class'::regclass
               AND d.refobjid = p.polrelid
               AND d.refobjsubid > 0
             ORDER BY 1) AS columns
FROM pg_catalog.pg_policy p
WHERE p.polrelid = ANY(%(oids)s)
  AND (%(written_only)s IS NOT TRUE OR pg_catalog.age(p.xmin) <= 0)
ORDER BY p.polrelid, p.polname COLLATE "C"
