CREATE TYPE order_status AS ENUM ('pending', 'paid', 'cancelled');
CREATE TABLE orders (id integer PRIMARY KEY, status order_status NOT NULL DEFAULT 'pending',
                     history order_status[]);
INSERT INTO orders VALUES (1, 'cancelled', '{pending,cancelled}'), (2, 'pending', NULL);
