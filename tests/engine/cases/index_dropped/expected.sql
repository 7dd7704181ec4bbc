SET LOCAL search_path TO public;
DROP INDEX public.idx_events_email;
