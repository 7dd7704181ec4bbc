SET LOCAL search_path TO public;
DROP FUNCTION public.full_name(first text);
CREATE FUNCTION public.full_name(first TEXT, last TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $fn$select first || coalesce(' ' || last, '')$fn$;
