CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL, note text, price integer);
INSERT INTO items VALUES (1, 'one', 'n', 3);
CREATE VIEW item_notes AS SELECT id, note, price FROM items;
CREATE TABLE invoices (id integer PRIMARY KEY, item_id integer REFERENCES items (id));
