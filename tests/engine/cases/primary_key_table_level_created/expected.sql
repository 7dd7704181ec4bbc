SET LOCAL search_path TO public;
CREATE TABLE public.memberships (
    tenant_id uuid NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    deleted_at timestamp with time zone,
    user_id uuid NOT NULL,
    role text NOT NULL,
    CONSTRAINT memberships_pkey PRIMARY KEY (user_id, tenant_id)
);
CREATE TABLE public.notes (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    tenant_id uuid NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    deleted_at timestamp with time zone,
    body text,
    CONSTRAINT notes_pkey PRIMARY KEY (tenant_id, id)
);
CREATE INDEX idx_memberships_created_at ON public.memberships USING btree (created_at);
CREATE INDEX idx_memberships_tenant_id ON public.memberships USING btree (tenant_id);
CREATE INDEX idx_notes_created_at ON public.notes USING btree (created_at);
CREATE INDEX idx_notes_tenant_id ON public.notes USING btree (tenant_id);
CREATE POLICY memberships_tenant_fence ON public.memberships AS RESTRICTIVE
    FOR ALL TO PUBLIC
    USING (tenant_id::text = current_setting('app.current_tenant_id', true))
    WITH CHECK (tenant_id::text = current_setting('app.current_tenant_id', true));
CREATE POLICY memberships_tenant_isolation ON public.memberships
    FOR ALL TO PUBLIC
    USING (tenant_id::text = current_setting('app.current_tenant_id', true))
    WITH CHECK (tenant_id::text = current_setting('app.current_tenant_id', true));
CREATE POLICY notes_tenant_fence ON public.notes AS RESTRICTIVE
    FOR ALL TO PUBLIC
    USING (tenant_id::text = current_setting('app.current_tenant_id', true))
    WITH CHECK (tenant_id::text = current_setting('app.current_tenant_id', true));
CREATE POLICY notes_tenant_isolation ON public.notes
    FOR ALL TO PUBLIC
    USING (tenant_id::text = current_setting('app.current_tenant_id', true))
    WITH CHECK (tenant_id::text = current_setting('app.current_tenant_id', true));
ALTER TABLE public.memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.notes ENABLE ROW LEVEL SECURITY;
