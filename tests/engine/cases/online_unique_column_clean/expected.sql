SET LOCAL search_path TO public;
-- stage 2: after COMMIT, each statement on its own, outside a transaction
CREATE UNIQUE INDEX CONCURRENTLY items_name_key ON public.items (name);
ALTER TABLE public.items ADD CONSTRAINT items_name_key UNIQUE USING INDEX items_name_key;
