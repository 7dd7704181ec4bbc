SET LOCAL search_path TO public;
CREATE TABLE public.documents (
    id uuid NOT NULL,
    org_id uuid NOT NULL,
    CONSTRAINT documents_pkey PRIMARY KEY (id)
);
CREATE OR REPLACE FUNCTION public.is_member_of(org UUID) RETURNS BOOLEAN LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $fn$
  select exists (
    select 1 from public.memberships m
    where m.org_id = org and m.user_name = current_user
  )
$fn$;
CREATE POLICY members_read ON public.documents
    FOR SELECT TO PUBLIC
    USING (is_member_of(org_id));
ALTER TABLE public.documents ENABLE ROW LEVEL SECURITY;
