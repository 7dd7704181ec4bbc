SET LOCAL search_path TO public;
ALTER TABLE public.items ADD CONSTRAINT items_app_code_key UNIQUE (app, code);
