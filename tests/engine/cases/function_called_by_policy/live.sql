CREATE TABLE memberships (org_id uuid PRIMARY KEY, user_name text NOT NULL);
CREATE FUNCTION is_member_of(org uuid) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = '' AS $$ select exists (select 1 from public.memberships m where m.org_id = org) $$;
