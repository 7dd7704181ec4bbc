CREATE TABLE orders (id integer PRIMARY KEY, status text NOT NULL DEFAULT 'pending');
INSERT INTO orders VALUES (1, 'pending'), (2, 'shipped');
