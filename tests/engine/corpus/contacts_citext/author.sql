-- A contacts book shared by a tenant's members: case-insensitive e-mails (citext), names
-- searched by trigram, a display name computed from the parts, and a membership table keyed
-- (member, tenant) in that order, because lookups start from the member.
create extension if not exists citext;
create extension if not exists pg_trgm;

create table contacts (
  id bigserial primary key,
  tenant_id uuid not null,
  email citext not null,
  first_name text not null,
  last_name text not null default '',
  display_name text generated always as (btrim(first_name || ' ' || last_name)) stored,
  created_at timestamptz not null default now(),
  unique (tenant_id, email)
);

create index contacts_display_name_idx on contacts (display_name);

create table contact_members (
  tenant_id uuid not null,
  member_id uuid not null,
  contact_id bigint not null references contacts (id) on delete cascade,
  can_edit boolean not null default false,
  primary key (member_id, tenant_id, contact_id)
);

alter table contacts enable row level security;
create policy contacts_tenant on contacts
  using (tenant_id::text = current_setting('app.current_tenant_id', true))
  with check (tenant_id::text = current_setting('app.current_tenant_id', true));

alter table contact_members enable row level security;
create policy contact_members_tenant on contact_members
  using (tenant_id::text = current_setting('app.current_tenant_id', true))
  with check (tenant_id::text = current_setting('app.current_tenant_id', true));
