SET LOCAL search_path TO public;
ALTER TABLE public.items ALTER COLUMN price TYPE integer USING price::integer;
