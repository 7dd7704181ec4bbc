CREATE TABLE items (id integer PRIMARY KEY, price numeric(10,2));
INSERT INTO items VALUES (1, 2.00), (2, 2.50), (3, 9.99);
