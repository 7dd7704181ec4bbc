-- One md5 over the row versions of what a plan manages in a schema besides its tables: its
-- enum types (and their values and comments), its functions (their bodies, settings, grants
-- and comments) and its default privileges. Any ALTER TYPE, CREATE or DROP TYPE, COMMENT ON
-- TYPE or FUNCTION, CREATE OR REPLACE, ALTER or DROP FUNCTION, GRANT or REVOKE on a function
-- or ALTER DEFAULT PRIVILEGES writes one of those rows.
WITH ns AS (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = %(schema)s)
SELECT md5(concat_ws('|',
  (SELECT oid FROM ns),
  (SELECT string_agg(t.xmin::text || ':' || t.oid, ',' ORDER BY t.oid)
     FROM pg_catalog.pg_type t WHERE t.typnamespace = (SELECT oid FROM ns) AND t.typtype = 'e'),
  (SELECT string_agg(e.xmin::text || ':' || e.oid, ',' ORDER BY e.oid)
     FROM pg_catalog.pg_enum e JOIN pg_catalog.pg_type t ON t.oid = e.enumtypid
    WHERE t.typnamespace = (SELECT oid FROM ns)),
  (SELECT string_agg(ds.xmin::text || ':' || ds.objoid, ',' ORDER BY ds.objoid)
     FROM pg_catalog.pg_description ds JOIN pg_catalog.pg_type t ON t.oid = ds.objoid
    WHERE ds.classoid = 'pg_catalog.pg_type'::regclass
      AND t.typnamespace = (SELECT oid FROM ns) AND t.typtype = 'e'),
  (SELECT string_agg(da.xmin::text || ':' || da.oid, ',' ORDER BY da.oid)
     FROM pg_catalog.pg_default_acl da WHERE da.defaclnamespace = (SELECT oid FROM ns)),
  (SELECT string_agg(p.xmin::text || ':' || p.oid, ',' ORDER BY p.oid)
     FROM pg_catalog.pg_proc p WHERE p.pronamespace = (SELECT oid FROM ns)),
  (SELECT string_agg(ds.xmin::text || ':' || ds.objoid, ',' ORDER BY ds.objoid)
     FROM pg_catalog.pg_description ds JOIN pg_catalog.pg_proc p ON p.oid = ds.objoid
    WHERE ds.classoid = 'pg_catalog.pg_proc'::regclass AND p.pronamespace = (SELECT oid FROM ns))
)) AS fingerprint
