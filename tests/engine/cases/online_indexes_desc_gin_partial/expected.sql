SET LOCAL search_path TO public;
-- stage 2: after COMMIT, each statement on its own, outside a transaction
CREATE INDEX CONCURRENTLY idx_events_live ON public.events (happened_at DESC NULLS LAST) WHERE (deleted_at IS NULL);
CREATE INDEX CONCURRENTLY idx_events_tags ON public.events USING gin (tags);
CREATE INDEX CONCURRENTLY idx_events_time ON public.events USING btree (app_code, happened_at DESC);
