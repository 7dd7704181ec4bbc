-- Every privilege held on the schema's tables, on the sequences their columns own, on their
-- columns, and the schema's default privileges: one row per object, grantee and privilege.
-- what: table | sequence | column | default; owner: the object's owner (for a default, the
-- role whose new objects it applies to); acl_set: false when the ACL is NULL (PostgreSQL's
-- built-in one: the owner's privileges only); grantee '0' is PUBLIC. An ACL that is set and
-- empty gives one row with a NULL privilege.
WITH ns AS (
    SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = %(schema)s
)
SELECT 'table' AS what, o.rolname AS owner, c.relname AS "table", NULL::text AS object,
       coalesce(r.rolname, a.grantee::text) AS grantee, a.privilege_type AS privilege,
       a.is_grantable AS grantable, c.relacl IS NOT NULL AS acl_set
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_roles o ON o.oid = c.relowner
LEFT JOIN LATERAL pg_catalog.aclexplode(c.relacl) a ON true
LEFT JOIN pg_catalog.pg_roles r ON r.oid = a.grantee
WHERE c.relnamespace = (SELECT oid FROM ns) AND c.relkind IN ('r', 'p')
  AND c.relacl IS NOT NULL
UNION ALL
SELECT 'sequence', o.rolname, t.relname, s.relname, coalesce(r.rolname, a.grantee::text),
       a.privilege_type, a.is_grantable, s.relacl IS NOT NULL
FROM pg_catalog.pg_depend d
JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S'
JOIN pg_catalog.pg_class t ON t.oid = d.refobjid
JOIN pg_catalog.pg_roles o ON o.oid = s.relowner
LEFT JOIN LATERAL pg_catalog.aclexplode(s.relacl) a ON true
LEFT JOIN pg_catalog.pg_roles r ON r.oid = a.grantee
WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.refclassid = 'pg_catalog.pg_class'::regclass
  AND d.deptype IN ('a', 'i') AND t.relnamespace = (SELECT oid FROM ns)
UNION ALL
SELECT 'column', o.rolname, c.relname, att.attname, coalesce(r.rolname, a.grantee::text),
       a.privilege_type, a.is_grantable, true
FROM pg_catalog.pg_attribute att
JOIN pg_catalog.pg_class c ON c.oid = att.attrelid
JOIN pg_catalog.pg_roles o ON o.oid = c.relowner
CROSS JOIN LATERAL pg_catalog.aclexplode(att.attacl) a
LEFT JOIN pg_catalog.pg_roles r ON r.oid = a.grantee
WHERE c.relnamespace = (SELECT oid FROM ns) AND c.relkind IN ('r', 'p')
  AND att.attnum > 0 AND NOT att.attisdropped AND att.attacl IS NOT NULL
UNION ALL
SELECT 'default', o.rolname, NULL, d.defaclobjtype::text, coalesce(r.rolname, a.grantee::text),
       a.privilege_type, a.is_grantable, true
FROM pg_catalog.pg_default_acl d
JOIN pg_catalog.pg_roles o ON o.oid = d.defaclrole
LEFT JOIN LATERAL pg_catalog.aclexplode(d.defaclacl) a ON true
LEFT JOIN pg_catalog.pg_roles r ON r.oid = a.grantee
WHERE d.defaclnamespace = (SELECT oid FROM ns)
ORDER BY 1, 3, 4, 5, 6
