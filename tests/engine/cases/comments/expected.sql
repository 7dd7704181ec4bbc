SET LOCAL search_path TO public;
COMMENT ON TABLE public.items IS 'Things we sell: it''s all here';
COMMENT ON COLUMN public.items.name IS 'what people call it';
COMMENT ON COLUMN public.items.sku IS NULL;
