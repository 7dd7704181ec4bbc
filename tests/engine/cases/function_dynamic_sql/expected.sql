SET LOCAL search_path TO public;
CREATE TABLE public.people (
    id integer NOT NULL,
    CONSTRAINT people_pkey PRIMARY KEY (id)
);
CREATE FUNCTION public.count_rows(table_name TEXT) RETURNS BIGINT LANGUAGE plpgsql VOLATILE AS $fn$
declare
  n bigint;
begin
  execute format('select count(*) from %I', table_name) into n;
  return n;
end
$fn$;
