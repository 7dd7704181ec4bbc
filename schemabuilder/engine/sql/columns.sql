-- Columns of the selected tables. Types, defaults and generation expressions are printed by
-- PostgreSQL itself (format_type, pg_get_expr) under the caller's search_path, so the same
-- definition prints the same way in a scratch schema and in the live one.
SELECT a.attrelid AS table_oid,
       a.attname AS name,
       a.attnum AS position,
       pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
       a.attnotnull AS not_null,
       CASE WHEN a.attgenerated = '' THEN pg_catalog.pg_get_expr(d.adbin, d.adrelid, true) END
           AS "default",
       CASE a.attidentity WHEN 'a' THEN 'ALWAYS' WHEN 'd' THEN 'BY DEFAULT' END AS identity,
       CASE WHEN a.attgenerated <> '' THEN
           format('GENERATED ALWAYS AS (%%s) %%s', pg_catalog.pg_get_expr(d.adbin, d.adrelid, true),
                  CASE a.attgenerated WHEN 'v' THEN 'VIRTUAL' ELSE 'STORED' END)
       END AS generated,
       CASE WHEN a.attcollation <> t.typcollation THEN quote_ident(co.collname) END AS collation,
       pg_catalog.col_description(a.attrelid, a.attnum) AS comment
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
WHERE a.attrelid = ANY(%(oids)s)
  AND a.attnum > 0
  AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
