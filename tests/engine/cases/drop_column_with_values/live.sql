CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL, note text);
INSERT INTO items VALUES (1, 'one', 'keep me'), (2, 'two', NULL), (3, 'three', 'me too');
