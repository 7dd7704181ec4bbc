-- A Trello/Linear-like board: boards, columns, cards and their assignees. Every foreign key
-- carries the org, so a card can never point at another org's board.
create table boards (
  id uuid not null default gen_random_uuid(),
  org_id uuid not null,
  title text not null,
  settings jsonb not null default jsonb_build_object('wip_limit', 0),
  archived_at timestamptz,
  created_at timestamptz not null default (now() at time zone 'utc'),
  primary key (id),
  unique (org_id, id)
);
comment on table boards is 'One board per team; the org''s members see all of them.';

create table board_columns (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null,
  board_id uuid not null,
  name text not null,
  "order" integer not null default 0 check ("order" >= 0),
  wip_limit integer check (wip_limit > 0),
  unique (org_id, id),
  unique (board_id, "order"),
  foreign key (org_id, board_id) references boards (org_id, id) on delete cascade
);

create table cards (
  id bigint generated always as identity primary key,
  org_id uuid not null,
  column_id uuid not null,
  title varchar(500) not null,
  description text default ''::text,
  labels text[] not null default array[]::text[],
  estimate numeric(5,1),
  "position" double precision not null default 0,
  created_by uuid not null,
  updated_by uuid,
  due_on date,
  reminder_at timestamptz default now() + interval '1 day',
  created_at timestamptz not null default now(),
  foreign key (org_id, column_id) references board_columns (org_id, id) on delete cascade,
  check (estimate >= 0),
  check (estimate <= 100)
);

create index cards_column_position_idx on cards (column_id, "position");
create index cards_labels_idx on cards using gin (labels);
create index cards_due_idx on cards (org_id, due_on) where due_on is not null;

create table card_assignees (
  id bigint generated always as identity primary key,
  card_id bigint not null references cards (id) on delete cascade,
  "user" uuid not null,
  assigned_by uuid,
  unique (card_id, "user")
);

alter table boards enable row level security;
alter table board_columns enable row level security;
alter table cards enable row level security;
alter table card_assignees enable row level security;

create policy boards_org on boards for all to authenticated
  using (org_id = ((auth.jwt() -> 'app_metadata') ->> 'org_id')::uuid)
  with check (org_id = ((auth.jwt() -> 'app_metadata') ->> 'org_id')::uuid);
create policy columns_org on board_columns for all to authenticated
  using (org_id = ((auth.jwt() -> 'app_metadata') ->> 'org_id')::uuid);
create policy cards_org on cards for all to authenticated
  using (org_id = ((auth.jwt() -> 'app_metadata') ->> 'org_id')::uuid)
  with check (org_id = ((auth.jwt() -> 'app_metadata') ->> 'org_id')::uuid and created_by = auth.uid());
create policy cards_not_archived on cards as restrictive for select to authenticated
  using (
    column_id in (
      select bc.id from board_columns bc join boards b on b.id = bc.board_id
      where b.archived_at is null
    )
  );
create policy assignees_visible on card_assignees for select to authenticated
  using (card_id in (select c.id from cards c));
create policy assignees_self on card_assignees for delete to authenticated
  using ("user" = auth.uid() or auth.jwt() -> 'app_metadata' -> 'roles' ? 'admin');
