CREATE TABLE items (id integer PRIMARY KEY, name varchar(50) NOT NULL);
INSERT INTO items VALUES (1, 'one');
