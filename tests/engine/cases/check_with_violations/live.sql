CREATE TABLE items (id integer PRIMARY KEY, qty integer NOT NULL);
INSERT INTO items VALUES (1, 5), (2, -1), (3, 0);
