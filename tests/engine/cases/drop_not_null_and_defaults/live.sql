CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL, status text DEFAULT 'new', qty integer);
INSERT INTO items VALUES (1, 'one', 'new', 1);
