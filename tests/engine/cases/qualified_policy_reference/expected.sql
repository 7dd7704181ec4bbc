SET LOCAL search_path TO public;
CREATE TABLE public.memberships (
    id uuid NOT NULL,
    org_id uuid NOT NULL,
    user_id uuid NOT NULL,
    CONSTRAINT memberships_pkey PRIMARY KEY (id)
);
CREATE TABLE public.projects (
    id uuid NOT NULL,
    org_id uuid NOT NULL,
    CONSTRAINT projects_pkey PRIMARY KEY (id)
);
CREATE POLICY members_read ON public.projects
    FOR SELECT TO PUBLIC
    USING (exists (select 1 from public.memberships m where m.org_id = projects.org_id and m.user_id = current_setting('app.user_id')::uuid));
CREATE POLICY projects_tenant_fence ON public.projects AS RESTRICTIVE
    FOR ALL TO PUBLIC
    USING (org_id::text = current_setting('app.current_tenant_id', true))
    WITH CHECK (org_id::text = current_setting('app.current_tenant_id', true));
ALTER TABLE public.projects ENABLE ROW LEVEL SECURITY;
