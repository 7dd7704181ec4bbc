CREATE TABLE items (id integer PRIMARY KEY, code text NOT NULL);
INSERT INTO items VALUES (1, 'a'), (2, 'b');
