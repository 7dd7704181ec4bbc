SET LOCAL search_path TO public;
ALTER TABLE public.purchases RENAME TO orders;
ALTER TABLE public.orders RENAME CONSTRAINT purchases_pkey TO orders_pkey;
DROP TRIGGER orders_old ON public.orders;
