SET LOCAL search_path TO public;
CREATE OR REPLACE FUNCTION public.full_name(first TEXT, last TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $fn$select trim(first || ' ' || last)$fn$;
