SET LOCAL search_path TO public;
ALTER TABLE public.items DROP CONSTRAINT items_pkey;
-- stage 2: after COMMIT, each statement on its own, outside a transaction
CREATE UNIQUE INDEX CONCURRENTLY items_pkey ON public.items (code);
ALTER TABLE public.items ADD CONSTRAINT items_pkey PRIMARY KEY USING INDEX items_pkey;
