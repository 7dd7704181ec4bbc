CREATE TABLE orders (id serial PRIMARY KEY, total numeric(10,2) NOT NULL);
INSERT INTO orders (total) VALUES (10.50), (99.00);
