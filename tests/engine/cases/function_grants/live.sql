DO $$ BEGIN CREATE ROLE anon NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE authenticated NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
CREATE TABLE people (id integer PRIMARY KEY);
CREATE FUNCTION open_answer() RETURNS integer LANGUAGE sql IMMUTABLE AS $$select 43$$;
