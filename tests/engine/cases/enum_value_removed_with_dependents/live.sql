CREATE TYPE order_status AS ENUM ('pending', 'paid', 'cancelled');
CREATE TABLE orders (id integer PRIMARY KEY, status order_status NOT NULL DEFAULT 'pending',
                     CONSTRAINT orders_check CHECK (status <> 'paid' OR id > 0));
CREATE INDEX orders_pending_idx ON orders (id) WHERE status = 'pending';
ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY orders_paid ON orders FOR SELECT USING (status = 'paid');
INSERT INTO orders VALUES (1, 'paid'), (2, 'pending');
