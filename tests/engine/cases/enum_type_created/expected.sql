SET LOCAL search_path TO public;
CREATE TYPE public.order_status AS ENUM ('pending', 'paid', 'shipped');
COMMENT ON TYPE public.order_status IS 'Where an order is';
CREATE TYPE public.tag AS ENUM ('red', 'it''s blue');
CREATE TABLE public.orders (
    id integer NOT NULL,
    status order_status DEFAULT 'pending'::order_status NOT NULL,
    tags tag[],
    CONSTRAINT orders_check CHECK (status <> 'shipped' OR id > 0),
    CONSTRAINT orders_pkey PRIMARY KEY (id)
);
