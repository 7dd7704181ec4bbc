-- What a Supabase project provides and this schema only uses: auth.users, auth.uid(), and the
-- app's own trigger functions, kept in a schema of their own by the team that owns them.
create schema if not exists auth;
create table if not exists auth.users (id uuid primary key, email text);
create or replace function auth.uid() returns uuid language sql stable as $$
  select nullif(current_setting('request.jwt.claim.sub', true), '')::uuid
$$;
do $$ begin create role authenticated nologin; exception when duplicate_object then null; end $$;
create schema if not exists private;
create table if not exists private.activity (tbl text, op text, at timestamptz default now());
create or replace function private.log_activity() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  insert into private.activity (tbl, op) values (tg_argv[0], tg_op);
  return null;
end;
$$;
create or replace function private.stamp_status() returns trigger
language plpgsql set search_path = '' as $$
begin
  new.status_changed_at := now();
  return new;
end;
$$;
