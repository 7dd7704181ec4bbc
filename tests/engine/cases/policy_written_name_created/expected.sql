SET LOCAL search_path TO public;
CREATE POLICY "Members can read live rows." ON public.templates
    FOR SELECT TO PUBLIC
    USING (tenant_id::text = current_setting('app.current_tenant_id', true) AND deleted_at IS NULL);
