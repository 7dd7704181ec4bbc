CREATE TABLE items (id integer PRIMARY KEY, name text);
INSERT INTO items VALUES (1, 'one'), (2, 'two');
