-- Columns of the selected tables. Types, defaults and generation expressions are printed by
-- PostgreSQL itself (format_type, pg_get_expr) under the caller's search_path, so the same
-- definition prints the same way in a scratch schema and in the live one.
-- A serial column (its default draws from a sequence the column owns) is reported as serial
-- with no default: the sequence's name follows the table's at creation and not after a
-- rename, so it is not part of the column's value.
-- The serial test is a join (col_description and per-row subqueries on pg_depend cost twice as
-- much on a schema of 1,000 tables). The comment is one index probe per column: as a join,
-- with the row estimates of a catalog not analyzed yet, PostgreSQL nested-looped over
-- pg_description (250 ms for the 4,000 columns of 250 tables, instead of 5).
-- written_only keeps only the rows this transaction wrote (see written.sql, whose test it
-- repeats), so verification deparses what the statements changed and nothing else.
WITH serial AS (
    -- (column, default) pairs where the default uses a sequence the column owns.
    SELECT DISTINCT own.refobjid AS attrelid, own.refobjsubid AS attnum, used.objid AS adoid
    FROM pg_catalog.pg_depend own
    JOIN pg_catalog.pg_depend used
      ON used.refclassid = 'pg_catalog.pg_class'::regclass
     AND used.refobjid = own.objid
     AND used.classid = 'pg_catalog.pg_attrdef'::regclass
    WHERE own.classid = 'pg_catalog.pg_class'::regclass
      AND own.refclassid = 'pg_catalog.pg_class'::regclass
      AND own.deptype = 'a'
      AND own.refobjid = ANY(%(oids)s)
)
SELECT a.attrelid AS table_oid,
       a.attname AS name,
       a.attnum AS position,
       pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
       a.attnotnull AS not_null,
       CASE WHEN a.attgenerated = '' AND s.adoid IS NULL
            THEN pg_catalog.pg_get_expr(d.adbin, d.adrelid, true) END AS "default",
       s.adoid IS NOT NULL AS serial,
       CASE a.attidentity WHEN 'a' THEN 'ALWAYS' WHEN 'd' THEN 'BY DEFAULT' END AS identity,
       CASE WHEN a.attgenerated <> '' THEN
           format('GENERATED ALWAYS AS (%%s) %%s', pg_catalog.pg_get_expr(d.adbin, d.adrelid, true),
                  CASE a.attgenerated WHEN 'v' THEN 'VIRTUAL' ELSE 'STORED' END)
       END AS generated,
       CASE WHEN a.attcollation <> t.typcollation THEN quote_ident(co.collname) END AS collation,
       (SELECT ds.description FROM pg_catalog.pg_description ds
         WHERE ds.objoid = a.attrelid
           AND ds.classoid = 'pg_catalog.pg_class'::regclass
           AND ds.objsubid = a.attnum) AS comment
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
LEFT JOIN serial s ON s.attrelid = a.attrelid AND s.attnum = a.attnum AND s.adoid = d.oid
WHERE a.attrelid = ANY(%(oids)s)
  AND a.attnum > 0
  AND NOT a.attisdropped
  AND (%(written_only)s IS NOT TRUE
       OR pg_catalog.age(a.xmin) <= 0 OR coalesce(pg_catalog.age(d.xmin) <= 0, false)
       OR EXISTS (SELECT 1 FROM pg_catalog.pg_description ds
                  WHERE ds.objoid = a.attrelid
                    AND ds.classoid = 'pg_catalog.pg_class'::regclass
                    AND ds.objsubid = a.attnum
                    AND pg_catalog.age(ds.xmin) <= 0))
ORDER BY a.attrelid, a.attnum
