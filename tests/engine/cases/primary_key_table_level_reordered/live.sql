CREATE TABLE memberships (tenant_id uuid NOT NULL, user_id uuid NOT NULL, role text NOT NULL, PRIMARY KEY (tenant_id, user_id));
INSERT INTO memberships VALUES (gen_random_uuid(), gen_random_uuid(), 'owner');
