-- The extensions named (%(names)s): the server's default version of each, whether that
-- version is trusted (a role with CREATE on the database may install it), and whether it is
-- installed already, in any schema. An extension installed whose files are gone is listed
-- too, as installed. Names the server does not know are simply absent.
SELECT a.name, a.default_version AS version, coalesce(v.trusted, false) AS trusted,
       e.extname IS NOT NULL AS installed
FROM pg_catalog.pg_available_extensions a
LEFT JOIN pg_catalog.pg_available_extension_versions v
  ON v.name = a.name AND v.version = a.default_version
LEFT JOIN pg_catalog.pg_extension e ON e.extname = a.name
WHERE a.name = ANY(%(names)s)
UNION ALL
SELECT e.extname, e.extversion, true, true
FROM pg_catalog.pg_extension e
WHERE e.extname = ANY(%(names)s)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions a WHERE a.name = e.extname)
