CREATE TABLE patients (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,
    first_name text,
    last_name text NOT NULL
);
INSERT INTO patients (tenant_id, first_name, last_name) VALUES
    ('11111111-1111-1111-1111-111111111111', 'Ada', 'Lovelace'),
    ('11111111-1111-1111-1111-111111111111', 'Grace', 'Hopper'),
    ('22222222-2222-2222-2222-222222222222', 'Alan', 'Turing');
