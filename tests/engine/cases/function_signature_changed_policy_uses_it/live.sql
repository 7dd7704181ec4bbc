CREATE TABLE documents (id uuid PRIMARY KEY, org_id uuid NOT NULL);
CREATE FUNCTION is_member_of(org uuid) RETURNS boolean LANGUAGE sql STABLE AS $$ select true $$;
ALTER TABLE documents ENABLE ROW LEVEL SECURITY;
CREATE POLICY members_read ON documents FOR SELECT USING (is_member_of(org_id));
