SET LOCAL search_path TO public;
ALTER TABLE public.items DROP CONSTRAINT items_qty_check;
ALTER TABLE public.items ADD CONSTRAINT items_qty_check CHECK (qty >= 0);
