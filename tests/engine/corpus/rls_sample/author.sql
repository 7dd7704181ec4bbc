-- Row level security for a shared-table multi-tenant app: every row carries tenant_id and
-- the app sets app.current_tenant (and app.current_user) per transaction.
create table tenants (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  plan text not null default 'basic',
  created_at timestamptz not null default now()
);

create table users (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references tenants (id) on delete cascade,
  email varchar(320) not null,
  display_name text,
  is_admin boolean not null default false,
  created_at timestamptz not null default now(),
  unique (tenant_id, email)
);

create table documents (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references tenants (id) on delete cascade,
  owner_id uuid not null references users (id),
  title text not null,
  body text,
  classification text not null default 'internal'
    check (classification in ('public', 'internal', 'secret')),
  created_at timestamptz not null default now(),
  deleted_at timestamptz
);

create index documents_tenant_id_idx on documents (tenant_id);
create index documents_owner_id_idx on documents (owner_id) where deleted_at is null;

alter table users enable row level security;
alter table documents enable row level security;
alter table documents force row level security;

create policy tenant_isolation on users
  using (tenant_id = current_setting('app.current_tenant', true)::uuid)
  with check (tenant_id = current_setting('app.current_tenant', true)::uuid);

-- The fence is restrictive: whatever else a policy allows, it never crosses tenants.
create policy tenant_fence on documents as restrictive
  using (tenant_id = current_setting('app.current_tenant', true)::uuid)
  with check (tenant_id = current_setting('app.current_tenant', true)::uuid);

create policy hide_deleted on documents as restrictive for select
  using (deleted_at is null);

create policy read_visible on documents for select to app_user
  using (classification <> 'secret' or owner_id = current_setting('app.current_user', true)::uuid);

create policy insert_own on documents for insert to app_user
  with check (owner_id = current_setting('app.current_user', true)::uuid);

create policy update_own on documents for update to app_user
  using (owner_id = current_setting('app.current_user', true)::uuid)
  with check (owner_id = current_setting('app.current_user', true)::uuid);

create policy delete_by_admin on documents for delete to app_user
  using (
    exists (
      select 1 from users u
      where u.id = current_setting('app.current_user', true)::uuid and u.is_admin
    )
  );
