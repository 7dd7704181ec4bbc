SET LOCAL search_path TO public;
DROP INDEX public.idx_events_time;
CREATE INDEX idx_events_time ON public.events USING btree (app_code, happened_at DESC);
