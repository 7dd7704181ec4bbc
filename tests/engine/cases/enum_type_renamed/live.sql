CREATE TYPE status_kind AS ENUM ('pending', 'paid');
CREATE TABLE orders (id integer PRIMARY KEY, status status_kind NOT NULL DEFAULT 'pending',
                     history status_kind[]);
INSERT INTO orders VALUES (1, 'paid', '{pending,paid}');
