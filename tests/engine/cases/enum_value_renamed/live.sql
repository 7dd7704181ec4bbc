CREATE TYPE order_status AS ENUM ('pending', 'payed', 'shipped');
CREATE TABLE orders (id integer PRIMARY KEY, status order_status NOT NULL DEFAULT 'payed',
                     CONSTRAINT orders_check CHECK (status <> 'payed' OR id > 0));
INSERT INTO orders VALUES (1, 'payed'), (2, 'shipped');
