-- A small CRM: companies, contacts, deals in a pipeline, activities; workspace per tenant.
create table companies (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null,
  name varchar not null,
  domain varchar(253),
  country char(2),
  employee_count integer,
  annual_revenue numeric,
  tags varchar(40)[] not null default '{}'::character varying[],
  owner_ids uuid[] not null default '{}',
  created_at timestamp(3) with time zone not null default current_timestamp,
  constraint companies_name_not_blank check (length(trim(name)) > 0),
  constraint companies_domain_format check (domain ~ '^[a-z0-9.-]+$')
);

create unique index companies_workspace_domain_key on companies (workspace_id, domain)
  where domain is not null;

create table contacts (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null,
  company_id uuid references companies (id) on delete set null,
  first_name varchar(100),
  last_name varchar(100),
  email varchar(255),
  phone varchar(32),
  "position" text,
  score double precision not null default 0,
  lifecycle varchar(20) not null default 'subscriber'::character varying
    check (lifecycle = any (array['subscriber', 'lead', 'customer', 'evangelist'])),
  birthday date,
  unsubscribed boolean default false,
  created_at timestamptz not null default now(),
  unique (workspace_id, email)
);

create index contacts_company_id_idx on contacts (company_id asc nulls first);

create table deals (
  id bigserial primary key,
  workspace_id uuid not null,
  company_id uuid not null references companies (id) on delete cascade,
  primary_contact_id uuid references contacts (id) on delete set null,
  title text not null,
  stage public.deal_stage not null default 'lead',
  amount numeric(14,2) check (amount >= 0),
  probability real check (probability between 0 and 1),
  expected_close date default current_date + 30,
  follow_up_every interval default '7 days',
  closed_at timestamptz,
  constraint deals_closed_when_done check ((stage in ('won', 'lost')) = (closed_at is not null))
);

create index deals_open_idx on deals (workspace_id, expected_close) where stage not in ('won', 'lost');

create table activities (
  id bigserial primary key,
  workspace_id uuid not null,
  deal_id bigint references deals (id) on delete cascade,
  contact_id uuid references contacts (id) on delete cascade,
  "type" varchar(16) not null check ("type" in ('call', 'email', 'meeting', 'note')),
  body text,
  due_at timestamptz,
  done boolean not null default false,
  created_at timestamptz not null default now(),
  check (deal_id is not null or contact_id is not null)
);

alter table companies enable row level security;
alter table contacts enable row level security;
alter table deals enable row level security;
alter table activities enable row level security;

create policy workspace_rows on companies to crm_user
  using (workspace_id = any (string_to_array(current_setting('app.workspaces', true), ',')::uuid[]));
create policy workspace_rows on contacts to crm_user
  using (workspace_id = any (string_to_array(current_setting('app.workspaces', true), ',')::uuid[]));
create policy workspace_rows on deals to crm_user
  using (workspace_id = any (string_to_array(current_setting('app.workspaces', true), ',')::uuid[]));
create policy own_or_shared on activities to crm_user
  using (
    workspace_id = any (string_to_array(current_setting('app.workspaces', true), ',')::uuid[])
    and (deal_id is null or deal_id in (select d.id from deals d where d.stage <> 'lost'))
  );
