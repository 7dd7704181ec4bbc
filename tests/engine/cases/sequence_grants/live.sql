DO $$ BEGIN CREATE ROLE anon NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE authenticated NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO anon;
CREATE TABLE orders (id serial PRIMARY KEY, note text);
INSERT INTO orders (note) VALUES ('a'), ('b');
GRANT SELECT, INSERT ON orders TO authenticated;
