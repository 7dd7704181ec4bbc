SET LOCAL search_path TO public;
ALTER TYPE public.status_kind RENAME TO order_status;
