SET LOCAL search_path TO public;
ALTER TABLE public.templates ALTER COLUMN tenant_id DROP NOT NULL;
