SET LOCAL search_path TO public;
REVOKE ALL ON TABLE public.api_keys FROM anon;
REVOKE INSERT, UPDATE, DELETE ON TABLE public.api_keys FROM authenticated;
REVOKE ALL ON TABLE public.api_keys FROM PUBLIC;
