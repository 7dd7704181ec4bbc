-- Objects outside a table that depend on it (or on one of its columns) and would make a
-- DROP TABLE, DROP COLUMN or ALTER COLUMN TYPE fail: views, foreign keys and policies of
-- other tables. owner_table is the table (or view) they belong to.
SELECT DISTINCT
       CASE dep.classid
           WHEN 'pg_catalog.pg_rewrite'::regclass THEN 'view ' || r.ev_class::regclass::text
           WHEN 'pg_catalog.pg_constraint'::regclass
               THEN 'foreign key ' || quote_ident(c.conname) || ' of ' || c.conrelid::regclass::text
           WHEN 'pg_catalog.pg_policy'::regclass
               THEN 'policy ' || quote_ident(p.polname) || ' of ' || p.polrelid::regclass::text
       END AS description,
       coalesce(rc.relname, cc.relname, pc.relname) AS owner_table,
       coalesce(rn.nspname, cn.nspname, pn.nspname) AS owner_schema
FROM pg_catalog.pg_depend dep
LEFT JOIN pg_catalog.pg_rewrite r
       ON dep.classid = 'pg_catalog.pg_rewrite'::regclass AND r.oid = dep.objid
LEFT JOIN pg_catalog.pg_class rc ON rc.oid = r.ev_class
LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
LEFT JOIN pg_catalog.pg_constraint c
       ON dep.classid = 'pg_catalog.pg_constraint'::regclass AND c.oid = dep.objid
LEFT JOIN pg_catalog.pg_class cc ON cc.oid = c.conrelid
LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = cc.relnamespace
LEFT JOIN pg_catalog.pg_policy p
       ON dep.classid = 'pg_catalog.pg_policy'::regclass AND p.oid = dep.objid
LEFT JOIN pg_catalog.pg_class pc ON pc.oid = p.polrelid
LEFT JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
WHERE dep.refclassid = 'pg_catalog.pg_class'::regclass
  AND dep.refobjid = to_regclass(%(table)s)
  AND (%(column)s::text IS NULL OR dep.refobjsubid = (
          SELECT attnum FROM pg_catalog.pg_attribute
          WHERE attrelid = dep.refobjid AND attname = %(column)s::text))
  AND dep.deptype = 'n'
  AND coalesce(rc.oid, cc.oid, pc.oid) IS DISTINCT FROM dep.refobjid
  AND coalesce(r.oid, c.oid, p.oid) IS NOT NULL
ORDER BY 1
