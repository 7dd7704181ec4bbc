SET LOCAL search_path TO public;
CREATE OR REPLACE FUNCTION public.answer() RETURNS INTEGER LANGUAGE sql IMMUTABLE AS $fn$select 42$fn$;
COMMENT ON FUNCTION public.answer() IS 'The answer.';
COMMENT ON FUNCTION public.label() IS NULL;
