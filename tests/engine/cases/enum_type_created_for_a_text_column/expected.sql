SET LOCAL search_path TO public;
CREATE TYPE public.order_status AS ENUM ('pending', 'paid');
ALTER TABLE public.orders ALTER COLUMN status DROP DEFAULT;
ALTER TABLE public.orders ALTER COLUMN status TYPE order_status USING status::order_status;
ALTER TABLE public.orders ALTER COLUMN status SET DEFAULT 'pending'::order_status;
