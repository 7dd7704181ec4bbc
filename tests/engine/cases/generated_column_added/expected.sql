SET LOCAL search_path TO public;
ALTER TABLE public.people ADD COLUMN full_name text GENERATED ALWAYS AS ((first_name || ' '::text) || last_name) STORED;
