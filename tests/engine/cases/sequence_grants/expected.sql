SET LOCAL search_path TO public;
CREATE TABLE public.order_lines (
    id bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
    line_no serial NOT NULL,
    CONSTRAINT order_lines_pkey PRIMARY KEY (id)
);
REVOKE ALL ON SEQUENCE public.orders_id_seq FROM anon;
GRANT USAGE, SELECT ON SEQUENCE public.orders_id_seq TO authenticated;
REVOKE ALL ON SEQUENCE public.order_lines_id_seq FROM anon;
GRANT USAGE ON SEQUENCE public.order_lines_id_seq TO authenticated;
REVOKE ALL ON SEQUENCE public.order_lines_line_no_seq FROM anon;
GRANT USAGE ON SEQUENCE public.order_lines_line_no_seq TO authenticated;
