SET LOCAL search_path TO public;
DROP TRIGGER orders_status ON public.orders;
ALTER TABLE public.orders ALTER COLUMN status DROP DEFAULT;
ALTER TABLE public.orders ALTER COLUMN status TYPE character varying(20) USING status::character varying(20);
ALTER TABLE public.orders ALTER COLUMN status SET DEFAULT 'new'::character varying;
CREATE TRIGGER orders_status AFTER UPDATE OF status ON public.orders FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION public.log_order();
