CREATE TABLE events (id integer PRIMARY KEY, app_code text NOT NULL, happened_at timestamptz NOT NULL,
    tags text[] NOT NULL DEFAULT '{}', email text, deleted_at timestamptz);
INSERT INTO events VALUES
    (1, 'crm', '2026-01-01', '{a}', 'ada@example.com', NULL),
    (2, 'crm', '2026-01-02', '{b}', 'ada@example.com', '2026-01-03'),
    (3, 'erp', '2026-01-02', '{}', 'alan@example.com', NULL);
CREATE INDEX idx_events_time ON events (happened_at);
