-- What a Supabase project provides and this schema only references: auth.users, auth.uid()
-- and the API roles.
create schema if not exists auth;
create table if not exists auth.users (
  id uuid primary key,
  email varchar(255),
  created_at timestamptz default now()
);
create or replace function auth.uid() returns uuid language sql stable as $$
  select nullif(current_setting('request.jwt.claim.sub', true), '')::uuid
$$;
do $$ begin create role authenticated nologin; exception when duplicate_object then null; end $$;
do $$ begin create role anon nologin; exception when duplicate_object then null; end $$;
