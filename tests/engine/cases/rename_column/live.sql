CREATE TABLE people (id integer PRIMARY KEY, tenant_id uuid NOT NULL, name text NOT NULL CHECK (length(name) > 0));
CREATE INDEX idx_people_name ON people (lower(name)) WHERE name <> '';
ALTER TABLE people ENABLE ROW LEVEL SECURITY;
CREATE POLICY people_tenant_isolation ON people USING (tenant_id::text = current_setting('app.current_tenant_id', true) AND name IS NOT NULL)
    WITH CHECK (tenant_id::text = current_setting('app.current_tenant_id', true));
INSERT INTO people VALUES (1, '11111111-1111-1111-1111-111111111111', 'Ada');
