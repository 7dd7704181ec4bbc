CREATE TABLE items (id integer PRIMARY KEY, qty integer NOT NULL DEFAULT 0);
INSERT INTO items VALUES (1, 5), (2, 7);
