CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL);
CREATE TABLE invoices (id integer PRIMARY KEY, item_id integer REFERENCES items (id));
CREATE TABLE catalog (id integer PRIMARY KEY);
