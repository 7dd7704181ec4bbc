SET LOCAL search_path TO public;
CREATE TABLE public.people (
    id integer NOT NULL,
    CONSTRAINT people_pkey PRIMARY KEY (id)
);
CREATE FUNCTION public.count_people() RETURNS BIGINT LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $fn$select count(*) from public.people$fn$;
