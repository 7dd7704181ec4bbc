SET LOCAL search_path TO public;
DROP POLICY "Only live rows." ON public.templates;
CREATE POLICY "Only live rows." ON public.templates
    FOR ALL TO PUBLIC
    USING (deleted_at IS NULL);
