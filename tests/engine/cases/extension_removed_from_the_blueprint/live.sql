-- An earlier version listed citext and pg_trgm; this one lists neither: nothing is dropped
-- (a column still uses citext, and another schema of the database might).
CREATE EXTENSION citext;
CREATE EXTENSION pg_trgm;
CREATE TABLE accounts (id integer PRIMARY KEY, email citext NOT NULL);
