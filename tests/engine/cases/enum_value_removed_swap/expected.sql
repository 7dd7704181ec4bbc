SET LOCAL search_path TO public;
CREATE TYPE public.order_status__new AS ENUM ('paid', 'pending');
ALTER TABLE public.orders ALTER COLUMN status DROP DEFAULT;
ALTER TABLE public.orders ALTER COLUMN status TYPE public.order_status__new USING status::text::public.order_status__new;
ALTER TABLE public.orders ALTER COLUMN history TYPE public.order_status__new[] USING history::text[]::public.order_status__new[];
DROP TYPE public.order_status;
ALTER TYPE public.order_status__new RENAME TO order_status;
ALTER TABLE public.orders ALTER COLUMN status SET DEFAULT 'pending'::order_status;
COMMENT ON TYPE public.order_status IS 'Where an order is';
