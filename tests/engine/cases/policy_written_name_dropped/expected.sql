SET LOCAL search_path TO public;
DROP POLICY "Members can read live rows." ON public.templates;
