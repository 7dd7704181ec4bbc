CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL, sku text);
COMMENT ON TABLE items IS 'old words';
COMMENT ON COLUMN items.sku IS 'stock keeping unit';
