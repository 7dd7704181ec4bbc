-- After a change, inside its transaction: one row per selected table with what
-- tables.sql gives, the member kinds of which this transaction wrote a catalog row, and an
-- md5 over the members it did not write, so the caller can check them against the plan's own
-- introspection without fetching them: one line per member, sorted, "<kind> <item>", where
-- the item is a column's position and comment ("<attnum>:<length>:<comment>" or
-- "<attnum>:-"; an unwritten column keeps its name) and any other member's name
-- ("<length>:<name>"). Lengths make the lines unambiguous.
-- A row's xmin is the transaction that wrote that version of it: age(xmin) <= 0 says it is
-- this transaction, one of its subtransactions, or one that began after this one's first
-- write (age counts from this transaction's id, fixed once read): a superset of "written
-- here", never less. The same tests stand in the written_only filters of columns.sql,
-- constraints.sql, indexes.sql and policies.sql. No deparsing.
WITH t AS (
    SELECT c.oid, c.relname, c.relrowsecurity, c.relforcerowsecurity
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = %(schema)s
      AND c.relkind IN ('r', 'p')
      AND NOT c.relispartition
      AND c.relname = ANY(%(names)s::text[])
), oids AS (
    SELECT coalesce(array_agg(oid), '{}') AS all_oids FROM t
), member AS (
    SELECT a.attrelid AS table_oid, 'columns' AS kind,
           pg_catalog.age(a.xmin) <= 0 OR coalesce(pg_catalog.age(d.xmin) <= 0, false)
             OR coalesce(pg_catalog.age(ds.xmin) <= 0, false) AS written,
           a.attnum || ':' || coalesce(length(ds.description) || ':' || ds.description, '-')
             AS item
    FROM pg_catalog.pg_attribute a
    LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    LEFT JOIN pg_catalog.pg_description ds
      ON ds.objoid = a.attrelid
     AND ds.classoid = 'pg_catalog.pg_class'::regclass
     AND ds.objsubid = a.attnum
     AND ds.objoid = ANY((SELECT all_oids FROM oids)::oid[])
    WHERE a.attrelid = ANY((SELECT all_oids FROM oids)::oid[])
      AND a.attnum > 0
      AND NOT a.attisdropped
    UNION ALL
    SELECT con.conrelid, 'constraints', pg_catalog.age(con.xmin) <= 0,
           length(con.conname) || ':' || con.conname
    FROM pg_catalog.pg_constraint con
    WHERE con.conrelid = ANY((SELECT all_oids FROM oids)::oid[])
      AND con.contype IN ('p', 'u', 'c', 'f', 'x')
    UNION ALL
    SELECT i.indrelid, 'indexes', pg_catalog.age(i.xmin) <= 0 OR pg_catalog.age(ic.xmin) <= 0,
           length(ic.relname) || ':' || ic.relname
    FROM pg_catalog.pg_index i
    JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
    WHERE i.indrelid = ANY((SELECT all_oids FROM oids)::oid[])
      AND NOT EXISTS (
          SELECT 1 FROM pg_catalog.pg_constraint con
          WHERE con.conindid = i.indexrelid
            AND con.conrelid = i.indrelid
            AND con.contype IN ('p', 'u', 'x'))
    UNION ALL
    SELECT p.polrelid, 'policies', pg_catalog.age(p.xmin) <= 0,
           length(p.polname) || ':' || p.polname
    FROM pg_catalog.pg_policy p
    WHERE p.polrelid = ANY((SELECT all_oids FROM oids)::oid[])
), per_table AS (
    SELECT table_oid,
           array_agg(DISTINCT kind) FILTER (WHERE written) AS written_kinds,
           md5(coalesce(string_agg(kind || ' ' || item, E'\n' ORDER BY kind || ' ' || item COLLATE "C")
                        FILTER (WHERE NOT written), '')) AS unwritten
    FROM member
    GROUP BY table_oid
)
SELECT t.oid AS table_oid,
       t.relname AS name,
       t.relrowsecurity AS rls,
       t.relforcerowsecurity AS rls_forced,
       obj_description(t.oid, 'pg_class') AS comment,
       coalesce(m.written_kinds, '{}') AS written_kinds,
       coalesce(m.unwritten, md5('')) AS unwritten
FROM t
LEFT JOIN per_table m ON m.table_oid = t.oid
ORDER BY t.relname COLLATE "C"
