SET LOCAL search_path TO public;
CREATE TABLE public.account_user (
    user_id uuid NOT NULL,
    account_id uuid NOT NULL
);
CREATE TABLE public.accounts (
    id uuid NOT NULL,
    primary_owner_user_id uuid NOT NULL,
    CONSTRAINT accounts_pkey PRIMARY KEY (id)
);
ALTER TABLE public.account_user ADD CONSTRAINT account_user_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts(id);
CREATE POLICY account_user_tenant_fence ON public.account_user AS RESTRICTIVE
    FOR ALL TO PUBLIC
    USING (account_id::text = current_setting('app.current_tenant_id', true))
    WITH CHECK (account_id::text = current_setting('app.current_tenant_id', true));
CREATE POLICY owner_deletes ON public.account_user
    FOR DELETE TO PUBLIC
    USING (user_id != (select primary_owner_user_id from accounts where account_id = accounts.id));
CREATE POLICY owner_reads ON public.accounts
    FOR SELECT TO PUBLIC
    USING (primary_owner_user_id = current_setting('app.user_id')::uuid);
ALTER TABLE public.account_user ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.accounts ENABLE ROW LEVEL SECURITY;
