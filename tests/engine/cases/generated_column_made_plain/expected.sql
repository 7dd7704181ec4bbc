SET LOCAL search_path TO public;
ALTER TABLE public.people ALTER COLUMN full_name DROP EXPRESSION;
ALTER TABLE public.people ALTER COLUMN full_name SET DEFAULT ''::text;
