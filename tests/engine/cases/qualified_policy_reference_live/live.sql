-- Built from the same blueprint written without the schema qualifier.
CREATE TABLE memberships (id uuid PRIMARY KEY, org_id uuid NOT NULL, user_id uuid NOT NULL);
CREATE TABLE projects (id uuid PRIMARY KEY, org_id uuid NOT NULL);
CREATE POLICY members_read ON projects FOR SELECT
    USING (exists (select 1 from memberships m where m.org_id = projects.org_id and m.user_id = current_setting('app.user_id')::uuid));
ALTER TABLE projects ENABLE ROW LEVEL SECURITY;
