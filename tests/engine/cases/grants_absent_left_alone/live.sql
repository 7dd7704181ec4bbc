DO $$ BEGIN CREATE ROLE anon NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE authenticated NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
CREATE TABLE api_keys (id integer PRIMARY KEY, secret text NOT NULL);
ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY api_keys_none ON api_keys FOR SELECT USING (false);
INSERT INTO api_keys VALUES (1, 'k'), (2, 'l');
GRANT SELECT, INSERT ON api_keys TO anon;
GRANT SELECT, INSERT, UPDATE, DELETE ON api_keys TO authenticated;
GRANT SELECT ON api_keys TO PUBLIC;
