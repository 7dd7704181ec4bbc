SET LOCAL search_path TO public;
DROP POLICY templates_tenant_isolation ON public.templates;
CREATE POLICY app_isolation ON public.templates
    FOR ALL TO authenticated
    USING (app_code = auth.jwt() ->> 'app_code')
    WITH CHECK (app_code = auth.jwt() ->> 'app_code');
