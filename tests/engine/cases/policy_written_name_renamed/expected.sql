SET LOCAL search_path TO public;
ALTER POLICY templates_tenant_isolation ON public.templates RENAME TO "Tenant isolation";
