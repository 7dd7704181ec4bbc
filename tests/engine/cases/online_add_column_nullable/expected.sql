SET LOCAL search_path TO public;
ALTER TABLE public.items ADD COLUMN note text;
