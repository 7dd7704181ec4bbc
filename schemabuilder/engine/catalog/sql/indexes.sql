-- Indexes of the selected tables, except those that back a primary key, unique or exclusion
-- constraint (they belong to the constraint). pg_get_indexdef(..., true) prints the table
-- unqualified when the search_path makes it visible; prefix is the head it prints,
-- "CREATE [UNIQUE ]INDEX name ON table ", so the rest ("USING btree (a DESC) WHERE ...") does
-- not depend on the table's name or schema.
-- written_only keeps only the rows this transaction wrote (see written.sql, whose test it
-- repeats), so verification deparses what the statements changed and nothing else.
SELECT i.indrelid AS table_oid,
       ic.relname AS name,
       i.indisunique AS "unique",
       i.indisvalid AS valid,
       am.amname AS method,
       -- A plain key column prints as its quoted name (what pg_get_indexdef(oid, k, true)
       -- prints for it, at a fraction of the cost: that call deparses the whole index);
       -- only expressions need the server's deparser.
       ARRAY(SELECT CASE WHEN i.indkey[k - 1] <> 0
                         THEN (SELECT quote_ident(a.attname) FROM pg_catalog.pg_attribute a
                               WHERE a.attrelid = i.indrelid AND a.attnum = i.indkey[k - 1])
                         ELSE pg_catalog.pg_get_indexdef(i.indexrelid, k, true) END
                    || CASE WHEN k > i.indnkeyatts THEN ''
                            WHEN i.indoption[k - 1] & 1 = 1 THEN
                                CASE WHEN i.indoption[k - 1] & 2 = 2 THEN ' DESC'
                                     ELSE ' DESC NULLS LAST' END
                            WHEN i.indoption[k - 1] & 2 = 2 THEN ' NULLS FIRST'
                            ELSE '' END
             FROM generate_series(1, i.indnkeyatts) AS k
             ORDER BY k) AS columns,
       pg_catalog.pg_get_expr(i.indpred, i.indrelid, true) AS predicate,
       pg_catalog.pg_get_indexdef(i.indexrelid, 0, true) AS full_definition,
       format('CREATE %%sINDEX %%s ON %%s ',
              CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END,
              quote_ident(ic.relname),
              i.indrelid::regclass) AS prefix
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_am am ON am.oid = ic.relam
WHERE i.indrelid = ANY(%(oids)s)
  AND (%(written_only)s IS NOT TRUE
       OR pg_catalog.age(i.xmin) <= 0 OR pg_catalog.age(ic.xmin) <= 0)
  AND NOT EXISTS (
      SELECT 1 FROM pg_catalog.pg_constraint con
      WHERE con.conindid = i.indexrelid
        AND con.conrelid = i.indrelid
        AND con.contype IN ('p', 'u', 'x'))
ORDER BY i.indrelid, ic.relname COLLATE "C"
