CREATE TABLE items (id integer PRIMARY KEY, app text NOT NULL, code text NOT NULL);
INSERT INTO items VALUES (1, 'a', 'x'), (2, 'a', 'x'), (3, 'a', 'x'), (4, 'b', 'x');
