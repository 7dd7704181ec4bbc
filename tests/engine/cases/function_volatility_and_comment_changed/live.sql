CREATE TABLE people (id integer PRIMARY KEY);
CREATE FUNCTION answer() RETURNS integer LANGUAGE sql STABLE AS $$select 42$$;
COMMENT ON FUNCTION answer() IS 'old words';
CREATE FUNCTION label() RETURNS text LANGUAGE sql IMMUTABLE AS $$select 'x'$$;
COMMENT ON FUNCTION label() IS 'goes';
