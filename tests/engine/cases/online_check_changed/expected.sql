SET LOCAL search_path TO public;
ALTER TABLE public.items DROP CONSTRAINT items_qty_check;
ALTER TABLE public.items ADD CONSTRAINT items_qty_check CHECK (qty >= 0) NOT VALID;
-- stage 2: after COMMIT, each statement on its own, outside a transaction
ALTER TABLE public.items VALIDATE CONSTRAINT items_qty_check;
