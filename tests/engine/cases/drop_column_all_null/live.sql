CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL, note text);
INSERT INTO items VALUES (1, 'one', NULL), (2, 'two', NULL);
