-- A schema with some of everything: what a blueprint says, and what it cannot.
create type mood as enum ('happy', 'sad');
create sequence invoice_numbers start 1000;

create table accounts (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null,
    email varchar(200) not null unique,
    feeling mood,
    balance numeric(12, 2) not null default 0 constraint positive_balance check (balance >= 0),
    plan text not null default 'free' check (plan in ('free', 'pro')),
    created_at timestamptz not null default now()
);
comment on table accounts is 'who pays';
comment on column accounts.email is 'where the invoices go';
comment on constraint positive_balance on accounts is 'no credit';
create index accounts_recent on accounts (tenant_id, created_at desc) where balance > 0;
alter table accounts enable row level security;
create policy accounts_own on accounts for all to public
    using (tenant_id::text = current_setting('app.current_tenant_id', true))
    with check (tenant_id::text = current_setting('app.current_tenant_id', true));

create table memberships (
    tenant_id uuid not null,
    user_id uuid not null,
    account_id uuid not null references accounts (id) on delete cascade,
    role varchar(20) not null default 'member' check (role in ('member', 'owner')),
    primary key (user_id, tenant_id)
);
alter table memberships enable row level security;
alter table memberships force row level security;
create policy memberships_read on memberships for select to postgres
    using (tenant_id::text = current_setting('app.current_tenant_id', true));
create policy memberships_fence on memberships as restrictive for all
    using (tenant_id::text = current_setting('app.current_tenant_id', true));

create function touch() returns trigger language plpgsql as $$
begin new.created_at := now(); return new; end $$;
create trigger accounts_touch before update on accounts for each row execute function touch();
grant select on accounts to public;
create view rich_accounts as select id, balance from accounts where balance > 1000;

-- Tables whose managed members a blueprint cannot say: left out whole.
create table events (id bigint generated always as identity primary key, name text);
create index events_lower_name on events (lower(name));
create table bookings (room int, during tsrange, exclude using gist (during with &&));
create table totals (a int, b int, c int generated always as (a + b) stored);
create table "CamelCase" (id int);
create table locked (id int);
alter table locked enable row level security;
create table named_keys (email text constraint uq_email unique);
create table on_update (account_id uuid references accounts (id) on update cascade);

-- Imported, with a key to a table left out.
create table event_tags (
    event_id bigint not null references events (id),
    tag text not null,
    unique (event_id, tag)
);

-- A policy that calls a volatile function of the schema's: the plan would refuse it.
create function current_team() returns uuid language sql as $$ select null::uuid $$;
create table team_notes (team_id uuid, body text);
alter table team_notes enable row level security;
create policy team_notes_own on team_notes using (team_id = current_team());

-- More that a blueprint cannot say: a deferrable key, a check not validated, an operator class.
create table deferred (code text unique deferrable initially deferred);
create table unchecked (n int);
alter table unchecked add constraint unchecked_n_check check (n > 0) not valid;
create table patterns (name text);
create index patterns_name on patterns (name text_pattern_ops);
create table collated (label text collate "C");
