SET LOCAL search_path TO public;
ALTER TABLE public.items ALTER COLUMN name SET NOT NULL;
