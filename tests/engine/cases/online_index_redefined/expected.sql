SET LOCAL search_path TO public;
-- stage 2: after COMMIT, each statement on its own, outside a transaction
DROP INDEX CONCURRENTLY public.idx_events_time;
CREATE INDEX CONCURRENTLY idx_events_time ON public.events USING btree (app_code, happened_at DESC);
