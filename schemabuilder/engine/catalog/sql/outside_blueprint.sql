-- What a schema holds that a blueprint cannot say and a plan never touches, one row per
-- object: kind, name, the table it belongs to (or NULL) and a word on why it is left out.
-- Objects of extensions are theirs, not the schema author's, and are not listed.
WITH ns AS (
    SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = %(schema)s
), ext AS (
    SELECT objid, classid FROM pg_catalog.pg_depend WHERE deptype = 'e'
)
SELECT 'trigger' AS kind, t.tgname AS name, c.relname AS "table", NULL::text AS why
FROM pg_catalog.pg_trigger t
JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
WHERE c.relnamespace = (SELECT oid FROM ns) AND NOT t.tgisinternal
UNION ALL
SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                      WHEN 'f' THEN 'foreign table' ELSE 'sequence' END,
       c.relname, NULL, NULL
FROM pg_catalog.pg_class c
WHERE c.relnamespace = (SELECT oid FROM ns)
  AND c.relkind IN ('v', 'm', 'f', 'S')
  AND c.oid NOT IN (SELECT objid FROM ext)
  -- A sequence a column owns (serial, identity) is the column's.
  AND NOT (c.relkind = 'S' AND EXISTS (
      SELECT 1 FROM pg_catalog.pg_depend d
      WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid
        AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i')))
UNION ALL
-- A sequence a column owns but does not draw from (its default was dropped): the column is
-- imported as a plain one, and the sequence is not said.
SELECT 'sequence', sc.relname, tc.relname,
       'owned by ' || tc.relname || '.' || att.attname || ', whose default does not draw from it'
FROM pg_catalog.pg_class sc
JOIN pg_catalog.pg_depend d
  ON d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = sc.oid
 AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype = 'a'
JOIN pg_catalog.pg_class tc ON tc.oid = d.refobjid
JOIN pg_catalog.pg_attribute att ON att.attrelid = tc.oid AND att.attnum = d.refobjsubid
WHERE sc.relnamespace = (SELECT oid FROM ns) AND sc.relkind = 'S'
  AND NOT EXISTS (
      SELECT 1 FROM pg_catalog.pg_attrdef ad
      JOIN pg_catalog.pg_depend dd
        ON dd.classid = 'pg_catalog.pg_attrdef'::regclass AND dd.objid = ad.oid
       AND dd.refclassid = 'pg_catalog.pg_class'::regclass AND dd.refobjid = sc.oid
      WHERE ad.adrelid = tc.oid AND ad.adnum = att.attnum)
UNION ALL
-- A column's own sequence (serial, identity) under another name than the one PostgreSQL
-- gives a new one (the table was renamed, say): a table built again names it anew. Names
-- PostgreSQL would shorten (over 63 bytes) are not compared.
SELECT 'sequence name', sc.relname, tc.relname,
       'the sequence of ' || tc.relname || '.' || att.attname || ' is not named '
       || tc.relname || '_' || att.attname || '_seq'
FROM pg_catalog.pg_class sc
JOIN pg_catalog.pg_depend d
  ON d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = sc.oid
 AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i')
JOIN pg_catalog.pg_class tc ON tc.oid = d.refobjid
JOIN pg_catalog.pg_attribute att ON att.attrelid = tc.oid AND att.attnum = d.refobjsubid
WHERE sc.relnamespace = (SELECT oid FROM ns) AND sc.relkind = 'S'
  AND octet_length(tc.relname || '_' || att.attname || '_seq') <= 63
  AND sc.relname <> tc.relname || '_' || att.attname || '_seq'
UNION ALL
-- A partition belongs with its parent; a table that inherits is imported, and listed itself.
SELECT CASE WHEN c.relispartition THEN 'partition' ELSE 'inheritance' END, c.relname,
       CASE WHEN c.relispartition THEN p.relname ELSE c.relname END,
       CASE WHEN c.relispartition THEN 'a partition of ' ELSE 'inherits from ' END || p.relname
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_inherits i ON i.inhrelid = c.oid
JOIN pg_catalog.pg_class p ON p.oid = i.inhparent
WHERE c.relnamespace = (SELECT oid FROM ns) AND c.relkind IN ('r', 'p')
UNION ALL
-- A column's own sequence (serial, identity) with options a blueprint cannot say.
SELECT 'sequence option', sc.relname, tc.relname,
       format('start %%s, increment %%s, min %%s, max %%s, cache %%s%%s', s.seqstart,
              s.seqincrement, s.seqmin, s.seqmax, s.seqcache,
              CASE WHEN s.seqcycle THEN ', cycle' ELSE '' END)
FROM pg_catalog.pg_sequence s
JOIN pg_catalog.pg_class sc ON sc.oid = s.seqrelid
JOIN pg_catalog.pg_depend d
  ON d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = sc.oid
 AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i')
JOIN pg_catalog.pg_class tc ON tc.oid = d.refobjid
WHERE sc.relnamespace = (SELECT oid FROM ns)
  AND (s.seqstart <> 1 OR s.seqincrement <> 1 OR s.seqmin <> 1 OR s.seqcache <> 1 OR s.seqcycle
       OR s.seqmax <> CASE s.seqtypid WHEN 'pg_catalog.int2'::regtype THEN 32767
                                      WHEN 'pg_catalog.int4'::regtype THEN 2147483647
                                      ELSE 9223372036854775807 END)
UNION ALL
SELECT CASE WHEN p.prokind = 'p' THEN 'procedure' ELSE 'function' END,
       p.proname || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')', NULL, NULL
FROM pg_catalog.pg_proc p
WHERE p.pronamespace = (SELECT oid FROM ns) AND p.oid NOT IN (SELECT objid FROM ext)
UNION ALL
-- Enum types are imported (``types``); the other kinds are not.
SELECT CASE t.typtype WHEN 'd' THEN 'domain'
                      WHEN 'r' THEN 'range type' ELSE 'composite type' END,
       t.typname, NULL, 'columns of this type are imported; the type itself is not'
FROM pg_catalog.pg_type t
WHERE t.typnamespace = (SELECT oid FROM ns)
  AND t.typtype IN ('d', 'r', 'c', 'm')
  AND (t.typtype <> 'c' OR (SELECT relkind FROM pg_catalog.pg_class WHERE oid = t.typrelid) = 'c')
  AND t.oid NOT IN (SELECT objid FROM ext)
UNION ALL
SELECT 'rule', r.rulename, c.relname, NULL
FROM pg_catalog.pg_rewrite r
JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
WHERE c.relnamespace = (SELECT oid FROM ns) AND c.relkind IN ('r', 'p')
UNION ALL
SELECT 'table option', c.relname, c.relname,
       concat_ws(', ', CASE WHEN c.relpersistence = 'u' THEN 'unlogged' END,
                 CASE WHEN c.reloptions IS NOT NULL THEN array_to_string(c.reloptions, ', ') END,
                 CASE WHEN c.relkind = 'p' THEN 'partitioned' END)
FROM pg_catalog.pg_class c
WHERE c.relnamespace = (SELECT oid FROM ns) AND c.relkind IN ('r', 'p')
  AND (c.relpersistence = 'u' OR c.reloptions IS NOT NULL OR c.relkind = 'p')
UNION ALL
SELECT 'comment', con.conname, tc.relname, 'a comment on a constraint'
FROM pg_catalog.pg_description ds
JOIN pg_catalog.pg_constraint con ON con.oid = ds.objoid
JOIN pg_catalog.pg_class tc ON tc.oid = con.conrelid
WHERE ds.classoid = 'pg_catalog.pg_constraint'::regclass AND tc.relnamespace = (SELECT oid FROM ns)
UNION ALL
SELECT 'comment', ic.relname, tc.relname, 'a comment on an index'
FROM pg_catalog.pg_description ds
JOIN pg_catalog.pg_index ix ON ix.indexrelid = ds.objoid
JOIN pg_catalog.pg_class ic ON ic.oid = ix.indexrelid
JOIN pg_catalog.pg_class tc ON tc.oid = ix.indrelid
WHERE ds.classoid = 'pg_catalog.pg_class'::regclass AND tc.relnamespace = (SELECT oid FROM ns)
UNION ALL
SELECT 'comment', pol.polname, tc.relname, 'a comment on a policy'
FROM pg_catalog.pg_description ds
JOIN pg_catalog.pg_policy pol ON pol.oid = ds.objoid
JOIN pg_catalog.pg_class tc ON tc.oid = pol.polrelid
WHERE ds.classoid = 'pg_catalog.pg_policy'::regclass AND tc.relnamespace = (SELECT oid FROM ns)
ORDER BY 1, 3 NULLS FIRST, 2
