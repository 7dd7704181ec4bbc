SET LOCAL search_path TO public;
-- stage 2: after COMMIT, each statement on its own, outside a transaction
CREATE UNIQUE INDEX CONCURRENTLY idx_events_live_email ON public.events (email) WHERE (deleted_at IS NULL);
