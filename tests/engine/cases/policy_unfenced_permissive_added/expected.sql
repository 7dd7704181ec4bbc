SET LOCAL search_path TO public;
CREATE POLICY public_read ON public.templates
    FOR SELECT TO PUBLIC
    USING (true);
