-- Accounts that people share: an account, who belongs to it, and invitations to join.
create table public.accounts (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  slug text unique,
  personal_account boolean not null default false,
  primary_owner_user_id uuid not null,
  public_metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz default now(),
  updated_at timestamptz default now()
);

create table public.account_user (
  id uuid primary key default gen_random_uuid(),
  account_id uuid not null references public.accounts (id) on delete cascade,
  user_id uuid not null,
  account_role text not null check (account_role in ('owner', 'member')),
  created_at timestamptz not null default now(),
  unique (account_id, user_id)
);

create index account_user_user_id_idx on public.account_user (user_id);

create table public.invitations (
  id uuid primary key default gen_random_uuid(),
  account_id uuid not null references public.accounts (id) on delete cascade,
  account_role text not null check (account_role in ('owner', 'member')),
  token text unique not null default replace(gen_random_uuid()::text, '-', ''),
  invited_by_user_id uuid not null,
  invitation_type text not null check (invitation_type in ('one_time', '24_hour')),
  account_name text,
  created_at timestamptz default now(),
  updated_at timestamptz default now()
);

create index invitations_account_id_idx on public.invitations (account_id);

alter table public.accounts enable row level security;
alter table public.account_user enable row level security;
alter table public.invitations enable row level security;

create policy accounts_select_members on public.accounts
  for select to authenticated
  using (
    primary_owner_user_id = auth.uid()
    or exists (
      select 1 from public.account_user au
      where au.account_id = accounts.id and au.user_id = auth.uid()
    )
  );

create policy accounts_update_owners on public.accounts
  for update to authenticated
  using (
    exists (
      select 1 from public.account_user au
      where au.account_id = accounts.id
        and au.user_id = auth.uid()
        and au.account_role = 'owner'
    )
  );

create policy account_user_select_own on public.account_user
  for select to authenticated
  using (user_id = auth.uid());

create policy account_user_delete_owners on public.account_user
  for delete to authenticated
  using (
    exists (
      select 1 from public.accounts a
      where a.id = account_user.account_id and a.primary_owner_user_id = auth.uid()
    )
  );

create policy invitations_select_owners on public.invitations
  for select to authenticated
  using (
    exists (
      select 1 from public.account_user au
      where au.account_id = invitations.account_id
        and au.user_id = auth.uid()
        and au.account_role = 'owner'
    )
  );

create policy invitations_insert_owners on public.invitations
  for insert to authenticated
  with check (
    invited_by_user_id = auth.uid()
    and exists (
      select 1 from public.account_user au
      where au.account_id = invitations.account_id
        and au.user_id = auth.uid()
        and au.account_role = 'owner'
    )
  );

create policy invitations_delete_owners on public.invitations
  for delete to authenticated
  using (
    exists (
      select 1 from public.account_user au
      where au.account_id = invitations.account_id
        and au.user_id = auth.uid()
        and au.account_role = 'owner'
    )
  );
