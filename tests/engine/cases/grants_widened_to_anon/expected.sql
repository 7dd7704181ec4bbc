SET LOCAL search_path TO public;
GRANT SELECT ON TABLE public.plans TO anon;
GRANT SELECT ON TABLE public.plans TO PUBLIC;
GRANT SELECT ON TABLE public.api_keys TO anon;
