-- Organizations, their members and projects; policies ask functions who belongs where.
-- Those functions are security definer with an empty search_path, as Supabase recommends, so a
-- policy on members can ask about members without recursing into its own policy.
create table public.organizations (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  updated_at timestamptz not null default now()
);

create table public.members (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.organizations (id) on delete cascade,
  user_id uuid not null,
  role text not null default 'member' check (role in ('owner', 'member')),
  unique (org_id, user_id)
);

create table public.projects (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.organizations (id) on delete cascade,
  title text not null
);

create function public.is_member_of(org uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select 1 from public.members m
    where m.org_id = org and m.user_id = auth.uid()
  );
$$;

comment on function public.is_member_of(uuid) is 'Whether the signed-in user belongs to org.';

create function public.is_owner_of(org uuid)
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return exists (
    select 1 from public.members m
    where m.org_id = org and m.user_id = auth.uid() and m.role = 'owner'
  );
end;
$$;

revoke execute on function public.is_owner_of(uuid) from public;
grant execute on function public.is_owner_of(uuid) to authenticated;

create function public.handle_updated_at()
returns trigger
language plpgsql
as $$
begin
  new.updated_at = now();
  return new;
end;
$$;

alter table public.organizations enable row level security;
alter table public.members enable row level security;
alter table public.projects enable row level security;

create policy "Members can view their organizations" on public.organizations
  for select to authenticated using (public.is_member_of(id));

create policy "Owners can rename their organizations" on public.organizations
  for update to authenticated using (public.is_owner_of(id));

create policy "Members can view fellow members" on public.members
  for select to authenticated using (public.is_member_of(org_id));

create policy "Members can view projects" on public.projects
  for select to authenticated using (public.is_member_of(org_id));

create policy "Owners can manage projects" on public.projects
  for all to authenticated
  using (public.is_owner_of(org_id)) with check (public.is_owner_of(org_id));
