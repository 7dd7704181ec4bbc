-- Notifications for a multi-tenant app: templates, per-user preferences, scheduled
-- deliveries and their attempts. Names are long, as an ORM-minded team writes them.
create table notification_templates (
  id bigserial primary key,
  tenant_id uuid not null,
  template_key varchar(100) not null,
  channel text not null check (channel in ('email', 'sms', 'push', 'in_app')),
  subject_template text,
  body_template text not null,
  unique (tenant_id, template_key, channel)
);

create table notification_subscription_preferences (
  id bigserial primary key,
  tenant_id uuid not null,
  user_id uuid not null,
  notification_template_id bigint not null references notification_templates (id) on delete cascade,
  receive_outside_business_hours boolean not null default false,
  quiet_hours_start time,
  quiet_hours_end time check (quiet_hours_end <> quiet_hours_start),
  unique (user_id, notification_template_id)
);

create table notification_delivery_schedules (
  id bigserial primary key,
  tenant_id uuid not null,
  notification_subscription_preference_id bigint not null
    references notification_subscription_preferences (id) on delete cascade,
  scheduled_for timestamptz not null,
  expires_at timestamptz check (expires_at > scheduled_for),
  status varchar(16) not null default 'scheduled'
    check (status in ('scheduled', 'sent', 'expired', 'cancelled'))
);

create index notification_delivery_schedules_due_idx on notification_delivery_schedules (scheduled_for)
  where status = 'scheduled';

alter table notification_templates enable row level security;
alter table notification_subscription_preferences enable row level security;
alter table notification_delivery_schedules enable row level security;

create policy notification_templates_tenant_isolation on notification_templates
  using (tenant_id::text = current_setting('app.current_tenant_id', true))
  with check (tenant_id::text = current_setting('app.current_tenant_id', true));
create policy notification_subscription_preferences_tenant_isolation on notification_subscription_preferences
  using (tenant_id::text = current_setting('app.current_tenant_id', true))
  with check (tenant_id::text = current_setting('app.current_tenant_id', true));
create policy notification_delivery_schedules_tenant_isolation on notification_delivery_schedules
  using (tenant_id::text = current_setting('app.current_tenant_id', true))
  with check (tenant_id::text = current_setting('app.current_tenant_id', true));
