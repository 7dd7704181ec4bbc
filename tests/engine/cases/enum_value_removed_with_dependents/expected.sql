SET LOCAL search_path TO public;
CREATE TYPE public.order_status__new AS ENUM ('pending', 'paid');
ALTER TABLE public.orders DROP CONSTRAINT orders_check;
DROP INDEX public.orders_pending_idx;
DROP POLICY orders_paid ON public.orders;
ALTER TABLE public.orders ALTER COLUMN status DROP DEFAULT;
ALTER TABLE public.orders ALTER COLUMN status TYPE public.order_status__new USING status::text::public.order_status__new;
DROP TYPE public.order_status;
ALTER TYPE public.order_status__new RENAME TO order_status;
ALTER TABLE public.orders ALTER COLUMN status SET DEFAULT 'pending'::order_status;
ALTER TABLE public.orders ADD CONSTRAINT orders_check CHECK (status <> 'paid' OR id > 0);
CREATE INDEX orders_pending_idx ON public.orders (id) WHERE (status = 'pending');
CREATE POLICY orders_paid ON public.orders
    FOR SELECT TO PUBLIC
    USING (status = 'paid');
