SET LOCAL search_path TO public;
ALTER FUNCTION public.fullname(first text, last text) RENAME TO full_name;
