CREATE FUNCTION fullname(first text, last text) RETURNS text LANGUAGE sql IMMUTABLE
  AS $$select trim(first || ' ' || last)$$;
CREATE TABLE people (id integer PRIMARY KEY);
