SET LOCAL search_path TO public;
CREATE POLICY "o'brien""; DROP TABLE templates; --" ON public.templates
    FOR SELECT TO PUBLIC
    USING (tenant_id::text = current_setting('app.current_tenant_id', true) AND deleted_at IS NULL);
