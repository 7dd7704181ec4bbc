SET LOCAL search_path TO public;
CREATE POLICY live_only ON public.templates AS RESTRICTIVE
    FOR ALL TO PUBLIC
    USING (deleted_at IS NULL);
