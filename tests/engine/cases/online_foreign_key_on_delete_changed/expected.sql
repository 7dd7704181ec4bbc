SET LOCAL search_path TO public;
ALTER TABLE public.templates DROP CONSTRAINT templates_app_code_fkey;
ALTER TABLE public.templates ADD CONSTRAINT templates_app_code_fkey FOREIGN KEY (app_code) REFERENCES applications(app_code) ON DELETE RESTRICT NOT VALID;
-- stage 2: after COMMIT, each statement on its own, outside a transaction
ALTER TABLE public.templates VALIDATE CONSTRAINT templates_app_code_fkey;
