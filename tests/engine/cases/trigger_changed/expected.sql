SET LOCAL search_path TO public;
CREATE OR REPLACE TRIGGER orders_log AFTER UPDATE ON public.orders FOR EACH ROW WHEN ((old.status IS DISTINCT FROM new.status)) EXECUTE FUNCTION public.log_order();
