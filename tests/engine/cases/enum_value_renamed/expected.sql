SET LOCAL search_path TO public;
ALTER TYPE public.order_status RENAME VALUE 'payed' TO 'paid';
