SET LOCAL search_path TO public;
ALTER TABLE public.items ADD COLUMN token uuid DEFAULT gen_random_uuid() NOT NULL;
ALTER TABLE public.items ADD COLUMN added_at timestamp with time zone DEFAULT now() NOT NULL;
