SET LOCAL search_path TO public;
ALTER TABLE public.orders RENAME COLUMN status TO state;
