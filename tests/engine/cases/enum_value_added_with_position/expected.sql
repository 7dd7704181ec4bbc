SET LOCAL search_path TO public;
ALTER TYPE public.order_status ADD VALUE 'draft' BEFORE 'pending';
ALTER TYPE public.order_status ADD VALUE 'paid' BEFORE 'shipped';
ALTER TYPE public.order_status ADD VALUE 'refunded' AFTER 'shipped';
