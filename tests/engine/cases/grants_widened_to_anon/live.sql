DO $$ BEGIN CREATE ROLE anon NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE authenticated NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
CREATE TABLE plans (id integer PRIMARY KEY, title text NOT NULL);
INSERT INTO plans VALUES (1, 'free'), (2, 'pro'), (3, 'team');
CREATE TABLE api_keys (id integer PRIMARY KEY, secret text NOT NULL);
ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
INSERT INTO api_keys VALUES (1, 'k');
CREATE POLICY api_keys_none ON api_keys FOR SELECT USING (false);
