CREATE TYPE order_status AS ENUM ('pending', 'paid');
CREATE TYPE legacy_state AS ENUM ('on', 'off');
CREATE TYPE not_ours AS ENUM ('x');
CREATE TABLE orders (id integer PRIMARY KEY, status order_status NOT NULL DEFAULT 'pending',
                     state legacy_state DEFAULT 'on');
INSERT INTO orders VALUES (1, 'paid', 'off');
