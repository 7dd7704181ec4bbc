-- Role-based access for a multi-tenant SaaS: roles per tenant, global permissions, and the
-- two join tables keyed by their pair of columns, as such tables usually are.
create table permissions (
  code varchar(64) primary key,
  description text not null
);

create table roles (
  id serial primary key,
  tenant_id uuid not null,
  name varchar(64) not null,
  is_system boolean not null default false,
  unique (tenant_id, name)
);

create table role_permissions (
  role_id integer not null references roles (id) on delete cascade,
  permission_code varchar(64) not null references permissions (code) on delete cascade,
  primary key (role_id, permission_code)
);

create table user_roles (
  tenant_id uuid not null,
  user_id uuid not null,
  role_id integer not null references roles (id) on delete cascade,
  granted_at timestamptz not null default now(),
  primary key (tenant_id, user_id, role_id)
);

alter table roles enable row level security;
alter table user_roles enable row level security;
create policy roles_tenant_isolation on roles
  using (tenant_id::text = current_setting('app.current_tenant_id', true))
  with check (tenant_id::text = current_setting('app.current_tenant_id', true));
create policy user_roles_tenant_isolation on user_roles
  using (tenant_id::text = current_setting('app.current_tenant_id', true))
  with check (tenant_id::text = current_setting('app.current_tenant_id', true));
