SET LOCAL search_path TO public;
CREATE TABLE public.webhooks (
    id bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
    url text NOT NULL,
    CONSTRAINT webhooks_pkey PRIMARY KEY (id)
);
