SET LOCAL search_path TO public;
ALTER TRIGGER log_orders ON public.orders RENAME TO orders_log;
