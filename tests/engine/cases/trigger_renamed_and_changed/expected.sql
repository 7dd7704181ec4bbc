SET LOCAL search_path TO public;
ALTER TRIGGER log_orders ON public.orders RENAME TO orders_log;
CREATE OR REPLACE TRIGGER orders_log AFTER INSERT OR DELETE ON public.orders FOR EACH ROW EXECUTE FUNCTION public.log_order('orders');
