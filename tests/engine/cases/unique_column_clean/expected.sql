SET LOCAL search_path TO public;
ALTER TABLE public.items ADD CONSTRAINT items_name_key UNIQUE (name);
