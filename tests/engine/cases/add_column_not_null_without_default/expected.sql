SET LOCAL search_path TO public;
ALTER TABLE public.items ADD COLUMN code text NOT NULL;
