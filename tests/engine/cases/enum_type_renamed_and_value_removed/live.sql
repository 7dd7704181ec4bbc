CREATE TYPE status_kind AS ENUM ('pending', 'paid', 'cancelled');
CREATE TABLE orders (id integer PRIMARY KEY, status status_kind NOT NULL DEFAULT 'pending',
                     CONSTRAINT orders_check CHECK (status <> 'paid' OR id > 0));
INSERT INTO orders VALUES (1, 'paid');
