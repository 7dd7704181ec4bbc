SET LOCAL search_path TO public;
ALTER TABLE public.patients ADD COLUMN created_at timestamp with time zone DEFAULT now() NOT NULL;
ALTER TABLE public.patients ADD COLUMN updated_at timestamp with time zone DEFAULT now() NOT NULL;
ALTER TABLE public.patients ADD COLUMN deleted_at timestamp with time zone;
ALTER TABLE public.patients ADD COLUMN phone text;
ALTER TABLE public.patients ALTER COLUMN first_name SET NOT NULL;
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
