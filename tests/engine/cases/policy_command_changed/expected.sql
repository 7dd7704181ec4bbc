SET LOCAL search_path TO public;
DROP POLICY templates_tenant_isolation ON public.templates;
CREATE POLICY templates_tenant_isolation ON public.templates
    FOR SELECT TO PUBLIC
    USING (tenant_id::text = current_setting('app.current_tenant_id', true));
