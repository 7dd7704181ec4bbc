SET LOCAL search_path TO public;
ALTER TABLE public.orders DROP COLUMN state;
DROP TYPE public.legacy_state;
