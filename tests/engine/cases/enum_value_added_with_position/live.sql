CREATE TYPE order_status AS ENUM ('pending', 'shipped');
CREATE TABLE orders (id integer PRIMARY KEY, status order_status NOT NULL DEFAULT 'pending');
INSERT INTO orders VALUES (1, 'pending'), (2, 'shipped');
