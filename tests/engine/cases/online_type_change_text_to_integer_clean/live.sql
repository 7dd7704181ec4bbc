CREATE TABLE items (id integer PRIMARY KEY, code text);
INSERT INTO items VALUES (1, '12'), (2, '40');
