SET LOCAL search_path TO public;
DROP TABLE public.orders;
