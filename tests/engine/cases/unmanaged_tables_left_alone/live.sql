CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL);
INSERT INTO items VALUES (1, 'one'), (2, 'two'), (3, 'three');

CREATE TABLE legacy_audit (id serial PRIMARY KEY, what text);
INSERT INTO legacy_audit (what) VALUES ('kept');
CREATE TABLE scratchpad (x integer);
