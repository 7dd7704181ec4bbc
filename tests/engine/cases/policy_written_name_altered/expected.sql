SET LOCAL search_path TO public;
ALTER POLICY "Members can read live rows." ON public.templates
    USING (tenant_id::text = current_setting('app.current_tenant_id', true) AND app_code <> 'hidden');
