CREATE TABLE templates (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id UUID NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    deleted_at TIMESTAMPTZ,
    app_code TEXT NOT NULL
);
CREATE INDEX idx_templates_tenant_id ON templates (tenant_id);
CREATE INDEX idx_templates_created_at ON templates (created_at);
ALTER TABLE templates ENABLE ROW LEVEL SECURITY;
CREATE POLICY templates_tenant_isolation ON templates
    USING (tenant_id::text = current_setting('app.current_tenant_id', true)) WITH CHECK (tenant_id::text = current_setting('app.current_tenant_id', true));
CREATE POLICY "Members can read live rows." ON templates FOR SELECT
    USING (tenant_id::text = current_setting('app.current_tenant_id', true) AND deleted_at IS NULL);
INSERT INTO templates (tenant_id, app_code) VALUES ('11111111-1111-1111-1111-111111111111', 'crm');
