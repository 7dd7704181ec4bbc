CREATE FUNCTION full_name(first text) RETURNS text LANGUAGE sql IMMUTABLE AS $$select first$$;
CREATE TABLE people (id integer PRIMARY KEY);
