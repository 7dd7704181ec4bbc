SET LOCAL search_path TO public;
CREATE TABLE public.templates (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    tenant_id uuid NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    deleted_at timestamp with time zone,
    app_code text NOT NULL,
    CONSTRAINT templates_pkey PRIMARY KEY (id)
);
CREATE INDEX idx_templates_created_at ON public.templates USING btree (created_at);
CREATE INDEX idx_templates_tenant_id ON public.templates USING btree (tenant_id);
CREATE POLICY anon_read ON public.templates
    FOR SELECT TO anon
    USING (false);
CREATE POLICY app_isolation ON public.templates
    FOR ALL TO authenticated
    USING (tenant_id::text = current_setting('app.current_tenant_id', true) AND app_code = auth.jwt() ->> 'app_code')
    WITH CHECK (tenant_id::text = current_setting('app.current_tenant_id', true));
CREATE POLICY templates_tenant_fence ON public.templates AS RESTRICTIVE
    FOR ALL TO PUBLIC
    USING (tenant_id::text = current_setting('app.current_tenant_id', true))
    WITH CHECK (tenant_id::text = current_setting('app.current_tenant_id', true));
ALTER TABLE public.templates ENABLE ROW LEVEL SECURITY;
