SET LOCAL search_path TO public;
CREATE TABLE public.tenant (
    tenant_id uuid NOT NULL,
    status character varying(64),
    CONSTRAINT tenant_pkey PRIMARY KEY (tenant_id),
    CONSTRAINT tenant_status_check CHECK (status IN ('Active', 'Suspended'))
);
CREATE INDEX tenant_active_idx ON public.tenant (tenant_id) WHERE (status IN ('Active', 'Trial'));
CREATE POLICY tenant_isolation_policy ON public.tenant
    FOR ALL TO PUBLIC
    USING (tenant_id = current_setting('app.current_tenant')::UUID AND status IN ('Active', 'Suspended'));
CREATE POLICY tenant_tenant_fence ON public.tenant AS RESTRICTIVE
    FOR ALL TO PUBLIC
    USING (tenant_id::text = current_setting('app.current_tenant_id', true))
    WITH CHECK (tenant_id::text = current_setting('app.current_tenant_id', true));
ALTER TABLE public.tenant ENABLE ROW LEVEL SECURITY;
