SET LOCAL search_path TO public;
CREATE TABLE public.people (
    id integer NOT NULL,
    first_name text NOT NULL,
    updated_at timestamp with time zone,
    CONSTRAINT people_pkey PRIMARY KEY (id)
);
CREATE FUNCTION public.full_name(first TEXT, last TEXT DEFAULT '') RETURNS TEXT LANGUAGE sql IMMUTABLE AS $fn$select trim(first || ' ' || last)$fn$;
COMMENT ON FUNCTION public.full_name(TEXT, TEXT) IS 'A person''s name as one line.';
CREATE FUNCTION public.touch_updated_at() RETURNS trigger LANGUAGE plpgsql VOLATILE AS $fn$
begin
  new.updated_at := now();
  return new;
end
$fn$;
