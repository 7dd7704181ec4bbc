SET LOCAL search_path TO public;
ALTER TABLE public.templates FORCE ROW LEVEL SECURITY;
