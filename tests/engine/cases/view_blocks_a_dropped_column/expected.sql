SET LOCAL search_path TO public;
ALTER TABLE public.items DROP COLUMN note;
ALTER TABLE public.items ALTER COLUMN price TYPE bigint USING price::bigint;
