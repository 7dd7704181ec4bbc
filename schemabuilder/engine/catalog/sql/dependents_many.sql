-- dependents.sql for many tables at once (each named as to_regclass takes it), with the
-- column each dependency is on (NULL for the whole table): the caller answers every
-- (table, column) question from these rows. Ordered as dependents.sql orders its rows.
SELECT DISTINCT
       t.name AS table_name,
       a.attname AS column_name,
       CASE dep.classid
           WHEN 'pg_catalog.pg_rewrite'::regclass THEN 'view ' || r.ev_class::regclass::text
           WHEN 'pg_catalog.pg_constraint'::regclass
               THEN 'foreign key ' || quote_ident(c.conname) || ' of ' || c.conrelid::regclass::text
           WHEN 'pg_catalog.pg_policy'::regclass
               THEN 'policy ' || quote_ident(p.polname) || ' of ' || p.polrelid::regclass::text
       END AS description,
       coalesce(rc.relname, cc.relname, pc.relname) AS owner_table,
       coalesce(rn.nspname, cn.nspname, pn.nspname) AS owner_schema
FROM unnest(%(tables)s::text[]) AS t(name)
JOIN pg_catalog.pg_depend dep
  ON dep.refclassid = 'pg_catalog.pg_class'::regclass
 AND dep.refobjid = to_regclass(t.name)
LEFT JOIN pg_catalog.pg_attribute a
       ON dep.refobjsubid > 0 AND a.attrelid = dep.refobjid AND a.attnum = dep.refobjsubid
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
WHERE dep.deptype = 'n'
  AND coalesce(rc.oid, cc.oid, pc.oid) IS DISTINCT FROM dep.refobjid
  AND coalesce(r.oid, c.oid, p.oid) IS NOT NULL
ORDER BY description, table_name, column_name
