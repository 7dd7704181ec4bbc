SET LOCAL search_path TO public;
CREATE FUNCTION public.answer() RETURNS INTEGER LANGUAGE sql IMMUTABLE AS $fn$select 42$fn$;
GRANT EXECUTE ON FUNCTION public.answer() TO authenticated;
REVOKE EXECUTE ON FUNCTION public.answer() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.open_answer() TO anon;
