SET LOCAL search_path TO public;
DROP TRIGGER orders_log ON public.orders;
