SET LOCAL search_path TO public;
ALTER TABLE public.clients RENAME TO patients;
ALTER TABLE public.patients RENAME CONSTRAINT clients_pkey TO patients_pkey;
ALTER INDEX public.idx_clients_created_at RENAME TO idx_patients_created_at;
ALTER INDEX public.idx_clients_tenant_id RENAME TO idx_patients_tenant_id;
ALTER POLICY clients_tenant_isolation ON public.patients RENAME TO patients_tenant_isolation;
