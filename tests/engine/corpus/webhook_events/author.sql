-- Outbound webhooks of a multi-tenant API: endpoints, the events to deliver, delivery attempts,
-- and the API keys that created them.
create table api_keys (
  id bigserial primary key,
  tenant_id uuid not null,
  label text not null default '',
  prefix char(8) not null unique,
  hashed_key text not null,
  owner_email varchar(254) not null check (owner_email = lower(owner_email)),
  scopes text[] not null default array['read']::text[],
  last_used_ip inet,
  expires_at timestamptz,
  revoked boolean not null default false
);

create table endpoints (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null,
  url text not null check (url ~* '^https?://'),
  secret text not null default replace(gen_random_uuid()::text, '-', ''),
  event_types text[] not null default '{}',
  retry_window interval not null default interval '3 days',
  failure_rate double precision not null default 0 check (failure_rate between 0 and 1),
  disabled_at timestamptz,
  created_by_key bigint references api_keys (id) on delete set null,
  created_at timestamptz not null default now()
);

create index endpoints_tenant_active_idx on endpoints (tenant_id) where disabled_at is null;

create table events (
  id bigserial primary key,
  tenant_id uuid not null,
  event_type varchar(100) not null,
  payload jsonb not null check (jsonb_typeof(payload) = 'object'),
  occurred_at timestamptz not null default now(),
  deliver_after timestamptz not null default now() + interval '5 seconds'
);

create index events_tenant_time_idx on events (tenant_id, occurred_at desc);
create index events_payload_idx on events using gin (payload);

create table deliveries (
  id bigserial primary key,
  tenant_id uuid not null,
  event_id bigint not null references events (id) on delete cascade,
  endpoint_id uuid not null references endpoints (id) on delete cascade,
  attempt integer not null default 1 check (attempt >= 1),
  status_code smallint,
  duration_ms real,
  error text,
  state text not null default 'pending'
    check (state in ('pending', 'succeeded', 'failed', 'gave_up')),
  next_attempt_at timestamptz,
  unique (event_id, endpoint_id, attempt)
);

create index deliveries_due_idx on deliveries (next_attempt_at) where state = 'pending';

alter table api_keys enable row level security;
alter table endpoints enable row level security;
alter table events enable row level security;
alter table deliveries enable row level security;
alter table deliveries force row level security;

create policy api_keys_tenant on api_keys
  using (tenant_id::text = current_setting('app.current_tenant_id', true))
  with check (tenant_id::text = current_setting('app.current_tenant_id', true));
create policy endpoints_tenant on endpoints
  using (tenant_id::text = current_setting('app.current_tenant_id', true))
  with check (tenant_id::text = current_setting('app.current_tenant_id', true));
create policy events_tenant on events
  using (tenant_id::text = current_setting('app.current_tenant_id', true))
  with check (tenant_id::text = current_setting('app.current_tenant_id', true));
create policy deliveries_tenant on deliveries
  using (tenant_id::text = current_setting('app.current_tenant_id', true))
  with check (tenant_id::text = current_setting('app.current_tenant_id', true));
