CREATE TABLE people (
    id integer PRIMARY KEY,
    first_name text NOT NULL,
    full_name text GENERATED ALWAYS AS (upper(first_name)) STORED
);
INSERT INTO people (id, first_name) VALUES (1, 'Ada'), (2, 'Alan');
