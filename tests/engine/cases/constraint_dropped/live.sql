CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL UNIQUE, qty integer CHECK (qty > 0));
INSERT INTO items VALUES (1, 'one', 1);
