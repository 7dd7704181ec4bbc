SET LOCAL search_path TO public;
ALTER TABLE public.items DROP CONSTRAINT items_pkey;
ALTER TABLE public.items ADD CONSTRAINT items_pkey PRIMARY KEY (code);
