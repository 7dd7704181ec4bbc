CREATE TABLE parents (id integer PRIMARY KEY, code text);
CREATE TABLE children (id integer PRIMARY KEY, parent_code text);
INSERT INTO parents VALUES (1, 'a'), (2, 'b');
INSERT INTO children VALUES (1, 'a'), (2, 'b'), (3, NULL);
