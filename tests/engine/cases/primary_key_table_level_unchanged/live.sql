-- The key's order is not the columns' order: the table-level primary_key says it exactly.
CREATE TABLE memberships (tenant_id uuid, user_id uuid, role text NOT NULL, PRIMARY KEY (user_id, tenant_id));
INSERT INTO memberships VALUES (gen_random_uuid(), gen_random_uuid(), 'owner');
