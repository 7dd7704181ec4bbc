SET LOCAL search_path TO public;
DROP POLICY templates_tenant_isolation ON public.templates;
DROP INDEX public.idx_templates_tenant_id;
ALTER TABLE public.templates DROP COLUMN tenant_id;
ALTER TABLE public.templates DISABLE ROW LEVEL SECURITY;
