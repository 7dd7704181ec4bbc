CREATE FUNCTION full_name(first text, last text) RETURNS text LANGUAGE sql IMMUTABLE
  AS $$select trim(first || ' ' || last)$$;
CREATE FUNCTION not_ours() RETURNS integer LANGUAGE sql AS $$select 1$$;
CREATE TABLE people (id integer PRIMARY KEY);
