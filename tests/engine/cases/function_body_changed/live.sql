CREATE FUNCTION full_name(first text, last text) RETURNS text LANGUAGE sql IMMUTABLE
  AS $$select first || ' ' || last$$;
CREATE TABLE people (id integer PRIMARY KEY);
