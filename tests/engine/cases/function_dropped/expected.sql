SET LOCAL search_path TO public;
DROP FUNCTION public.full_name(first text, last text);
