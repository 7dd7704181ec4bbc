CREATE TABLE people (id integer PRIMARY KEY, first_name text NOT NULL, last_name text NOT NULL);
INSERT INTO people VALUES (1, 'Ada', 'Lovelace'), (2, 'Alan', 'Turing');
