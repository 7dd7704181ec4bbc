SET LOCAL search_path TO public;
CREATE TABLE public.order_lines (
    id bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
    price numeric(12,2) NOT NULL,
    quantity integer NOT NULL,
    total numeric(14,2) GENERATED ALWAYS AS ((price * quantity::numeric)) STORED,
    sku text NOT NULL,
    sku_key text GENERATED ALWAYS AS (lower(btrim(sku))) STORED NOT NULL,
    CONSTRAINT order_lines_pkey PRIMARY KEY (id),
    CONSTRAINT order_lines_total_check CHECK (total >= 0)
);
CREATE INDEX order_lines_sku_key_idx ON public.order_lines USING btree (sku_key);
