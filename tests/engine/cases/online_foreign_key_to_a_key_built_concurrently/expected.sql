SET LOCAL search_path TO public;
CREATE TABLE public.grandchildren (
    id integer NOT NULL,
    parent_code text,
    CONSTRAINT grandchildren_pkey PRIMARY KEY (id)
);
-- stage 2: after COMMIT, each statement on its own, outside a transaction
CREATE UNIQUE INDEX CONCURRENTLY parents_code_key ON public.parents (code);
ALTER TABLE public.parents ADD CONSTRAINT parents_code_key UNIQUE USING INDEX parents_code_key;
ALTER TABLE public.children ADD CONSTRAINT children_parent_code_fkey FOREIGN KEY (parent_code) REFERENCES parents(code) NOT VALID;
ALTER TABLE public.children VALIDATE CONSTRAINT children_parent_code_fkey;
ALTER TABLE public.grandchildren ADD CONSTRAINT grandchildren_parent_code_fkey FOREIGN KEY (parent_code) REFERENCES parents(code);
