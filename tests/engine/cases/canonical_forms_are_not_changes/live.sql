CREATE TABLE templates (
    id INTEGER PRIMARY KEY,
    title VARCHAR(255) NOT NULL,
    status TEXT NOT NULL DEFAULT 'DRAFT' CHECK (status IN ('DRAFT', 'ACTIVE')),
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    price NUMERIC(10, 2),
    tags TEXT[]
);
CREATE INDEX idx_templates_live ON templates (created_at DESC) WHERE status <> 'DRAFT';
