CREATE TABLE accounts (id integer PRIMARY KEY, email text NOT NULL);
INSERT INTO accounts VALUES (1, 'Ada@example.com');
