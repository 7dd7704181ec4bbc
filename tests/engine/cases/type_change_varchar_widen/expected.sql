SET LOCAL search_path TO public;
ALTER TABLE public.items ALTER COLUMN name TYPE character varying(100) USING name::character varying(100);
