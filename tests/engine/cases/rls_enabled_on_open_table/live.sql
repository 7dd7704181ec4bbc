CREATE TABLE notes (id integer PRIMARY KEY, tenant_id uuid NOT NULL, body text);
INSERT INTO notes VALUES (1, '11111111-1111-1111-1111-111111111111', 'hello');
