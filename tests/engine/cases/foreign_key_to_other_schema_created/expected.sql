SET LOCAL search_path TO public;
CREATE TABLE public.memberships (
    id bigint NOT NULL,
    user_id uuid NOT NULL,
    invited_by uuid,
    CONSTRAINT memberships_pkey PRIMARY KEY (id)
);
CREATE TABLE public.profiles (
    id uuid NOT NULL,
    display_name text,
    CONSTRAINT profiles_pkey PRIMARY KEY (id)
);
ALTER TABLE public.memberships ADD CONSTRAINT memberships_invited_by_fkey FOREIGN KEY (invited_by) REFERENCES auth.users(id) ON DELETE SET NULL;
ALTER TABLE public.memberships ADD CONSTRAINT memberships_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id);
ALTER TABLE public.profiles ADD CONSTRAINT profiles_id_fkey FOREIGN KEY (id) REFERENCES auth.users(id) ON DELETE CASCADE;
