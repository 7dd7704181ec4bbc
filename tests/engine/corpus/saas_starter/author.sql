-- A SaaS starter: organizations, their members, projects and one billing subscription each.
-- Tenancy is the organization; the app sets app.current_org_id on every connection.
create table organizations (
  id serial primary key,
  name varchar(255) not null,
  slug varchar(64) not null unique,
  billing_email varchar(255),
  created_at timestamp not null default now(),
  updated_at timestamp not null default now()
);

create table members (
  id serial primary key,
  organization_id integer not null references organizations (id) on delete cascade,
  user_email varchar(255) not null,
  role varchar(32) not null default 'member' check (role in ('owner', 'admin', 'member')),
  invited_at timestamptz,
  joined_at timestamptz default now(),
  unique (organization_id, user_email)
);

create table projects (
  id serial primary key,
  organization_id integer not null references organizations (id) on delete cascade,
  name varchar(120) not null,
  description text,
  archived boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create index projects_organization_id_idx on projects (organization_id);

create table subscriptions (
  id serial primary key,
  organization_id integer not null unique references organizations (id) on delete cascade,
  plan varchar(64) not null default 'free',
  status varchar(32) not null check (status in ('trialing', 'active', 'past_due', 'canceled', 'unpaid')),
  stripe_customer_id varchar(255),
  stripe_subscription_id varchar(255) unique,
  seats integer not null default 1 check (seats > 0),
  trial_ends_at timestamptz,
  current_period_end timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create index subscriptions_status_idx on subscriptions (status) where status in ('trialing', 'past_due');

alter table projects enable row level security;
create policy projects_tenant_isolation on projects
  using (organization_id::text = current_setting('app.current_org_id', true))
  with check (organization_id::text = current_setting('app.current_org_id', true));

alter table subscriptions enable row level security;
create policy subscriptions_read on subscriptions for select
  using (organization_id::text = current_setting('app.current_org_id', true) and status in ('trialing', 'active', 'past_due'));
