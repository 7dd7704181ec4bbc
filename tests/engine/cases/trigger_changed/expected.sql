SET LOCAL search_path TO public;
CREATE OR REPLACE TRIGGER orders_log AFTER UPDATE ON public.orders FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION public.log_order();
