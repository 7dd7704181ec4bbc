SET LOCAL search_path TO public;
ALTER TABLE public.items DROP COLUMN note;
