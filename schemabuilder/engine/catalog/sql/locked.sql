-- The tables of one schema on which this transaction holds a lock stronger than those of
-- plain reads and writes (ROW EXCLUSIVE and weaker), on the table itself or on one of its
-- indexes. Every DDL statement that changes a table takes such a lock on it (at least SHARE
-- UPDATE EXCLUSIVE: COMMENT ON; CREATE INDEX takes SHARE; most ALTER TABLE forms ACCESS
-- EXCLUSIVE) and holds it until the transaction ends, so these are all the tables this
-- transaction's statements, and any event trigger they fired, can have changed.
SELECT DISTINCT c.relname AS name
FROM pg_catalog.pg_locks l
JOIN pg_catalog.pg_class r ON r.oid = l.relation
LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = r.oid
JOIN pg_catalog.pg_class c ON c.oid = coalesce(i.indrelid, r.oid)
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE l.locktype = 'relation'
  AND l.pid = pg_catalog.pg_backend_pid()
  AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
  AND l.granted
  AND l.mode NOT IN ('AccessShareLock', 'RowShareLock', 'RowExclusiveLock')
  AND n.nspname = %(schema)s
  AND c.relkind IN ('r', 'p')
