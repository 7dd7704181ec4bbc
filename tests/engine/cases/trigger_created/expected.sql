SET LOCAL search_path TO public;
CREATE TRIGGER orders_log AFTER INSERT OR UPDATE ON public.orders FOR EACH ROW EXECUTE FUNCTION public.log_order();
