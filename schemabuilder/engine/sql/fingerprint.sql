-- One md5 per table over everything the engine manages on it (columns, constraints, indexes,
-- policies, row level security, comments), in one round trip. Far cheaper than a full
-- introspection: the apply step uses it to tell whether a table moved since it was planned,
-- and whether a table the change did not touch stayed as it was.
SELECT c.relname AS name,
       md5(concat_ws('|',
         c.relrowsecurity, c.relforcerowsecurity, obj_description(c.oid, 'pg_class'),
         (SELECT string_agg(concat_ws(':', a.attname, format_type(a.atttypid, a.atttypmod),
                                      a.attnotnull, a.attidentity, a.attgenerated,
                                      pg_get_expr(d.adbin, d.adrelid),
                                      col_description(c.oid, a.attnum)),
                            ',' ORDER BY a.attnum)
            FROM pg_catalog.pg_attribute a
            LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
           WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
         (SELECT string_agg(concat_ws(':', co.conname, pg_get_constraintdef(co.oid)),
                            ',' ORDER BY co.conname)
            FROM pg_catalog.pg_constraint co WHERE co.conrelid = c.oid),
         (SELECT string_agg(pg_get_indexdef(i.indexrelid), ',' ORDER BY i.indexrelid::regclass::text)
            FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid),
         (SELECT string_agg(concat_ws(':', p.polname, p.polcmd, p.polpermissive,
                                      p.polroles::text, pg_get_expr(p.polqual, p.polrelid),
                                      pg_get_expr(p.polwithcheck, p.polrelid)),
                            ',' ORDER BY p.polname)
            FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid)
       )) AS fingerprint
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s
  AND c.relkind IN ('r', 'p')
  AND NOT c.relispartition
  AND c.relname = ANY(%(tables)s)
