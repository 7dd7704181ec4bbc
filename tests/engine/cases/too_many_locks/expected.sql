SET LOCAL search_path TO public;
CREATE TABLE public.a (
    id integer NOT NULL,
    CONSTRAINT a_pkey PRIMARY KEY (id)
);
CREATE TABLE public.b (
    id integer NOT NULL,
    a_id integer,
    CONSTRAINT b_pkey PRIMARY KEY (id)
);
CREATE INDEX idx_a_1 ON public.a USING btree (id);
ALTER TABLE public.b ADD CONSTRAINT b_a_id_fkey FOREIGN KEY (a_id) REFERENCES a(id);
