SET LOCAL search_path TO public;
ALTER TABLE public.items ADD CONSTRAINT items_name_not_null_check CHECK (name IS NOT NULL) NOT VALID;
-- stage 2: after COMMIT, each statement on its own, outside a transaction
ALTER TABLE public.items VALIDATE CONSTRAINT items_name_not_null_check;
ALTER TABLE public.items ALTER COLUMN name SET NOT NULL;
ALTER TABLE public.items DROP CONSTRAINT items_name_not_null_check;
