SET LOCAL search_path TO public;
ALTER TABLE public.people RENAME COLUMN name TO full_name;
ALTER TABLE public.people RENAME CONSTRAINT people_name_check TO people_full_name_check;
DROP INDEX public.idx_people_name;
CREATE INDEX idx_people_name ON public.people USING btree (full_name);
