SET LOCAL search_path TO public;
CREATE UNIQUE INDEX idx_events_live_email ON public.events (email) WHERE (deleted_at IS NULL);
