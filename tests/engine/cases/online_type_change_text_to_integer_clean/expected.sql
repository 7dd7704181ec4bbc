SET LOCAL search_path TO public;
ALTER TABLE public.items ALTER COLUMN code TYPE integer USING code::integer;
