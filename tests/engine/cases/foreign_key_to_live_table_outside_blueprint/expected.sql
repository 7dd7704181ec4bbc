SET LOCAL search_path TO public;
CREATE TABLE public.addresses (
    id integer NOT NULL,
    country character(2) NOT NULL,
    CONSTRAINT addresses_pkey PRIMARY KEY (id)
);
ALTER TABLE public.addresses ADD CONSTRAINT addresses_country_fkey FOREIGN KEY (country) REFERENCES countries(code);
