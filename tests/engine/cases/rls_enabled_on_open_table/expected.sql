SET LOCAL search_path TO public;
CREATE POLICY notes_tenant_fence ON public.notes AS RESTRICTIVE
    FOR ALL TO PUBLIC
    USING (tenant_id::text = current_setting('app.current_tenant_id', true))
    WITH CHECK (tenant_id::text = current_setting('app.current_tenant_id', true));
CREATE POLICY notes_tenant_isolation ON public.notes
    FOR ALL TO PUBLIC
    USING (tenant_id::text = current_setting('app.current_tenant_id', true))
    WITH CHECK (tenant_id::text = current_setting('app.current_tenant_id', true));
ALTER TABLE public.notes ENABLE ROW LEVEL SECURITY;
