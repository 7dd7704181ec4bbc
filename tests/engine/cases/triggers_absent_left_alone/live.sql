CREATE TABLE orders (id bigint PRIMARY KEY, status text NOT NULL DEFAULT 'new', note text, updated_at timestamptz NOT NULL DEFAULT now());
INSERT INTO orders (id) VALUES (1), (2);
CREATE TABLE order_log (order_id bigint, status text, at timestamptz DEFAULT now());
CREATE FUNCTION log_order() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN INSERT INTO order_log (order_id, status) VALUES (NEW.id, NEW.status); RETURN NEW; END$$;
CREATE TRIGGER orders_log AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION log_order();
