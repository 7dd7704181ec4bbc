SET LOCAL search_path TO public;
DROP POLICY templates_tenant_isolation ON public.templates;
