-- An append-only audit trail: one row per change, readable by the tenant it belongs to.
create table audit_events (
  id bigserial primary key,
  tenant_id uuid not null,
  occurred_at timestamptz not null default current_timestamp,
  actor_id uuid,
  actor_type varchar(16) not null default 'user' check (actor_type in ('user', 'service', 'system')),
  action varchar(64) not null,
  target_table text not null,
  target_id text,
  old_data jsonb,
  new_data jsonb,
  changed_fields text[],
  ip inet,
  user_agent text,
  request_id uuid,
  severity smallint not null default 0 check (severity between 0 and 7)
);

create index audit_events_tenant_occurred_idx on audit_events (tenant_id, occurred_at desc);
create index audit_events_target_idx on audit_events (target_table, target_id);
create index audit_events_new_data_idx on audit_events using gin (new_data);
create index audit_events_occurred_brin on audit_events using brin (occurred_at);
create index audit_events_alerts_idx on audit_events (tenant_id, occurred_at desc nulls last)
  where severity >= 4;

create table audit_retention (
  tenant_id uuid primary key,
  keep_days integer not null default 365 check (keep_days between 1 and 3650),
  legal_hold boolean not null default false,
  updated_at timestamptz
);

create table audit_exports (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references audit_retention (tenant_id) on delete cascade,
  requested_by uuid not null,
  range_start timestamptz not null,
  range_end timestamptz not null,
  format varchar(8) not null default 'jsonl' check (format in ('jsonl', 'csv')),
  status varchar(16) not null default 'pending' check (status in ('pending', 'running', 'done', 'failed')),
  row_count bigint,
  created_at timestamptz not null default now(),
  check (range_end > range_start)
);

alter table audit_events enable row level security;
alter table audit_retention enable row level security;
alter table audit_exports enable row level security;

-- Append-only: a tenant reads and inserts its events; nobody updates or deletes them.
create policy audit_events_read on audit_events for select
  using (tenant_id = current_setting('app.current_tenant_id', true)::uuid);
create policy audit_events_append on audit_events for insert
  with check (tenant_id = current_setting('app.current_tenant_id', true)::uuid);

create policy audit_retention_tenant_isolation on audit_retention
  using (tenant_id::text = current_setting('app.current_tenant_id', true))
  with check (tenant_id::text = current_setting('app.current_tenant_id', true));

create policy audit_exports_tenant_isolation on audit_exports
  using (tenant_id::text = current_setting('app.current_tenant_id', true))
  with check (tenant_id::text = current_setting('app.current_tenant_id', true));
