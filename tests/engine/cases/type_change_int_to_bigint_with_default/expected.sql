SET LOCAL search_path TO public;
ALTER TABLE public.items ALTER COLUMN qty DROP DEFAULT;
ALTER TABLE public.items ALTER COLUMN qty TYPE bigint USING qty::bigint;
ALTER TABLE public.items ALTER COLUMN qty SET DEFAULT 0;
