-- What a table's printed form depends on outside its own catalog rows (fingerprint.sql has
-- those), per table, as one md5: the names of the tables and columns its foreign keys
-- reference, of the sequences its defaults use, of the relations its policies read and of
-- the roles they apply to, and whether each index is valid. A rename of any of them prints
-- differently while the table's own rows stay as they were.
-- Set-based (one pass over pg_depend for all tables), not a sub-query per table: per-table
-- lookups in pg_depend cost seconds on a schema of 1,000 tables.
WITH t AS (
    SELECT c.oid, c.relname
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = %(schema)s
      AND c.relkind IN ('r', 'p')
      AND NOT c.relispartition
      AND c.relname = ANY(%(tables)s)
), fk AS (
    SELECT co.conrelid AS oid,
           string_agg(r.xmin::text || ':' || r.oid || ':' || coalesce(
               (SELECT string_agg(a.xmin::text, ',' ORDER BY a.attnum)
                  FROM pg_catalog.pg_attribute a
                 WHERE a.attrelid = co.confrelid AND a.attnum = ANY(co.confkey)), ''),
             ',' ORDER BY co.oid) AS v
    FROM pg_catalog.pg_constraint co
    JOIN t ON t.oid = co.conrelid
    JOIN pg_catalog.pg_class r ON r.oid = co.confrelid
    WHERE co.contype = 'f'
    GROUP BY co.conrelid
), used AS (
    -- Relations (sequences, other tables) that defaults and policies depend on.
    SELECT coalesce(d.adrelid, p.polrelid) AS oid, dep.refobjid
    FROM pg_catalog.pg_depend dep
    LEFT JOIN pg_catalog.pg_attrdef d
      ON dep.classid = 'pg_catalog.pg_attrdef'::regclass AND d.oid = dep.objid
    LEFT JOIN pg_catalog.pg_policy p
      ON dep.classid = 'pg_catalog.pg_policy'::regclass AND p.oid = dep.objid
    WHERE dep.classid IN ('pg_catalog.pg_attrdef'::regclass, 'pg_catalog.pg_policy'::regclass)
      AND dep.refclassid = 'pg_catalog.pg_class'::regclass
), rel AS (
    SELECT u.oid, string_agg(DISTINCT s.xmin::text || ':' || s.oid, ',') AS v
    FROM used u
    JOIN t ON t.oid = u.oid
    JOIN pg_catalog.pg_class s ON s.oid = u.refobjid AND s.oid <> u.oid
    GROUP BY u.oid
), pol AS (
    SELECT p.polrelid AS oid,
           string_agg(p.oid || ':' || array_to_string(ARRAY(
               SELECT rol.rolname FROM pg_catalog.pg_roles rol
                WHERE rol.oid = ANY(p.polroles) ORDER BY 1), ','), ';' ORDER BY p.oid) AS v
    FROM pg_catalog.pg_policy p
    JOIN t ON t.oid = p.polrelid
    GROUP BY p.polrelid
), idx AS (
    SELECT i.indrelid AS oid,
           string_agg(i.indexrelid || ':' || i.indisvalid || i.indisready, ','
                      ORDER BY i.indexrelid) AS v
    FROM pg_catalog.pg_index i
    JOIN t ON t.oid = i.indrelid
    GROUP BY i.indrelid
)
SELECT t.relname AS name,
       md5(concat_ws('|', t.oid, fk.v, rel.v, pol.v, idx.v)) AS dependencies
FROM t
LEFT JOIN fk ON fk.oid = t.oid
LEFT JOIN rel ON rel.oid = t.oid
LEFT JOIN pol ON pol.oid = t.oid
LEFT JOIN idx ON idx.oid = t.oid
