SET LOCAL search_path TO public;
CREATE UNIQUE INDEX idx_events_email ON public.events USING btree (email);
