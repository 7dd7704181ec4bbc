SET LOCAL search_path TO public;
ALTER TABLE public.items DROP CONSTRAINT items_name_key;
ALTER TABLE public.items DROP CONSTRAINT items_qty_check;
