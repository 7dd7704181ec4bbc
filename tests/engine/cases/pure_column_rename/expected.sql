SET LOCAL search_path TO public;
ALTER TABLE public.subscriptions RENAME COLUMN created TO created_at;
