-- Primary key, unique, check, foreign key and exclusion constraints of the selected tables
-- (PostgreSQL 18's NOT NULL constraints are columns' not_null, not listed here).
-- fk_prefix is the head PostgreSQL prints for a foreign key, "FOREIGN KEY (a) REFERENCES t(x)";
-- the rest of the definition (actions, deferrability) is kept apart so a table or column
-- rename can be replayed on the definition without parsing it.
-- written_only keeps only the rows this transaction wrote (see written.sql, whose test it
-- repeats), so verification deparses what the statements changed and nothing else.
SELECT con.conrelid AS table_oid,
       con.conname AS name,
       con.contype AS kind,
       pg_catalog.pg_get_constraintdef(con.oid, true) AS definition,
       ARRAY(SELECT a.attname
             FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
             ORDER BY k.ord) AS columns,
       -- A table in a schema off the search_path (Supabase's auth.users) prints qualified.
       CASE WHEN con.contype = 'f' THEN
           CASE WHEN rn.nspname = ANY(pg_catalog.current_schemas(false)) THEN r.relname
                ELSE rn.nspname || '.' || r.relname END
       END AS ref_table,
       ARRAY(SELECT a.attname
             FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
             ORDER BY k.ord) AS ref_columns,
       CASE WHEN con.contype = 'f' THEN
           format('FOREIGN KEY (%%s) REFERENCES %%s(%%s)',
                  (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.ord)
                   FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
                   JOIN pg_catalog.pg_attribute a
                     ON a.attrelid = con.conrelid AND a.attnum = k.attnum),
                  con.confrelid::regclass,
                  (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.ord)
                   FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
                   JOIN pg_catalog.pg_attribute a
                     ON a.attrelid = con.confrelid AND a.attnum = k.attnum))
       END AS fk_prefix,
       CASE con.confdeltype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT'
            WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT'
       END AS on_delete,
       CASE con.confupdtype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT'
            WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT'
       END AS on_update
FROM pg_catalog.pg_constraint con
LEFT JOIN pg_catalog.pg_class r ON r.oid = con.confrelid
LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = r.relnamespace
WHERE con.conrelid = ANY(%(oids)s)
  AND con.contype IN ('p', 'u', 'c', 'f', 'x')
  AND (%(written_only)s IS NOT TRUE OR pg_catalog.age(con.xmin) <= 0)
ORDER BY con.conrelid, con.conname COLLATE "C"
