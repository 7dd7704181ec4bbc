SET LOCAL search_path TO public;
CREATE TABLE public.secrets (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    tenant_id uuid NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    deleted_at timestamp with time zone,
    value text NOT NULL,
    CONSTRAINT secrets_pkey PRIMARY KEY (id)
);
CREATE INDEX idx_secrets_created_at ON public.secrets USING btree (created_at);
CREATE INDEX idx_secrets_tenant_id ON public.secrets USING btree (tenant_id);
ALTER TABLE public.secrets ENABLE ROW LEVEL SECURITY;
