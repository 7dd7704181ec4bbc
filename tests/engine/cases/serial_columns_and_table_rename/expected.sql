SET LOCAL search_path TO public;
ALTER TABLE public.orders RENAME TO purchases;
ALTER TABLE public.purchases RENAME CONSTRAINT orders_pkey TO purchases_pkey;
CREATE TABLE public.refunds (
    id bigserial NOT NULL,
    purchase_id integer NOT NULL,
    CONSTRAINT refunds_pkey PRIMARY KEY (id)
);
ALTER TABLE public.purchases ADD COLUMN line_no bigserial NOT NULL;
ALTER TABLE public.refunds ADD CONSTRAINT refunds_purchase_id_fkey FOREIGN KEY (purchase_id) REFERENCES purchases(id);
