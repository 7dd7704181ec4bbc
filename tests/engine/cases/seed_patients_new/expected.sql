SET LOCAL search_path TO public;
CREATE TABLE public.patients (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    tenant_id uuid NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    deleted_at timestamp with time zone,
    first_name text NOT NULL,
    last_name text NOT NULL,
    phone text,
    CONSTRAINT patients_pkey PRIMARY KEY (id)
);
CREATE INDEX idx_patients_created_at ON public.patients USING btree (created_at);
CREATE INDEX idx_patients_phone ON public.patients USING btree (phone);
CREATE INDEX idx_patients_tenant_id ON public.patients USING btree (tenant_id);
CREATE POLICY patients_tenant_fence ON public.patients AS RESTRICTIVE
    FOR ALL TO PUBLIC
    USING (tenant_id::text = current_setting('app.current_tenant_id', true))
    WITH CHECK (tenant_id::text = current_setting('app.current_tenant_id', true));
CREATE POLICY patients_tenant_isolation ON public.patients
    FOR ALL TO PUBLIC
    USING (tenant_id::text = current_setting('app.current_tenant_id', true))
    WITH CHECK (tenant_id::text = current_setting('app.current_tenant_id', true));
ALTER TABLE public.patients ENABLE ROW LEVEL SECURITY;
