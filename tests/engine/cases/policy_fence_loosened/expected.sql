SET LOCAL search_path TO public;
ALTER POLICY templates_tenant_isolation ON public.templates
    USING (tenant_id::text = current_setting('app.current_tenant_id', true) OR app_code = 'shared');
