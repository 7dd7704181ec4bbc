SET LOCAL search_path TO public;
ALTER TABLE public.profiles DROP CONSTRAINT profiles_id_fkey;
