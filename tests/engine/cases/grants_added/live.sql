DO $$ BEGIN CREATE ROLE anon NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE authenticated NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE service_role NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
CREATE TABLE profiles (id uuid PRIMARY KEY, tenant_id uuid NOT NULL, name text);
ALTER TABLE profiles ENABLE ROW LEVEL SECURITY;
CREATE POLICY profiles_tenant_isolation ON profiles
  USING (tenant_id::text = current_setting('app.current_tenant_id', true))
  WITH CHECK (tenant_id::text = current_setting('app.current_tenant_id', true));
INSERT INTO profiles VALUES (gen_random_uuid(), gen_random_uuid(), 'a'), (gen_random_uuid(), gen_random_uuid(), 'b');
GRANT SELECT ON profiles TO authenticated;
