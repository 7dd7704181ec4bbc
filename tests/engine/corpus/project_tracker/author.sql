-- A Supabase-style project tracker: workspaces, their members, projects and tasks, with the
-- (select auth.uid()) form the Supabase docs recommend so the call runs once per statement.
create table public.workspaces (
  id uuid primary key default gen_random_uuid(),
  name varchar(120) not null check (char_length(name) > 0),
  slug varchar(60) not null unique check (slug ~ '^[a-z0-9-]+$'),
  owner_id uuid not null,
  is_public boolean not null default false,
  inserted_at timestamp with time zone not null default timezone('utc'::text, now())
);

create table public.workspace_members (
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  user_id uuid not null,
  role text not null default 'member' check (role = any (array['owner', 'admin', 'member'])),
  joined_at timestamptz not null default now(),
  primary key (workspace_id, user_id)
);

create index workspace_members_user_idx on public.workspace_members (user_id);

create table public.projects (
  id bigint generated always as identity primary key,
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  title text not null,
  tags text[] not null default '{}'::text[],
  archived boolean not null default false,
  created_by uuid,
  created_at timestamptz not null default now()
);

create index projects_workspace_idx on public.projects (workspace_id) where not archived;
create index projects_tags_idx on public.projects using gin (tags);

create table public.tasks (
  id bigint generated always as identity primary key,
  project_id bigint not null references public.projects (id) on delete cascade,
  title varchar(200) not null,
  done boolean not null default false,
  priority smallint not null default 2 check (priority >= 0 and priority <= 4),
  estimate_hours numeric(6,2) check (estimate_hours is null or estimate_hours > 0),
  assignee_id uuid,
  due_at timestamptz,
  created_at timestamptz not null default now()
);

create index tasks_project_done_idx on public.tasks (project_id, done);
create index tasks_assignee_idx on public.tasks (assignee_id) where assignee_id is not null;

alter table public.workspaces enable row level security;
alter table public.workspace_members enable row level security;
alter table public.projects enable row level security;
alter table public.tasks enable row level security;

create policy workspaces_public_read on public.workspaces
  for select to anon, authenticated using (is_public);
create policy workspaces_member_read on public.workspaces
  for select to authenticated
  using (exists (select 1 from public.workspace_members m
                 where m.workspace_id = workspaces.id and m.user_id = (select auth.uid())));
create policy workspaces_owner_insert on public.workspaces
  for insert to authenticated with check (owner_id = (select auth.uid()));
create policy workspaces_owner_update on public.workspaces
  for update to authenticated
  using (owner_id = (select auth.uid()))
  with check (owner_id = (select auth.uid()));

create policy members_self_read on public.workspace_members
  for select to authenticated using (user_id = (select auth.uid()));
create policy members_admin_all on public.workspace_members
  for all to authenticated
  using (exists (select 1 from public.workspace_members m
                 where m.workspace_id = workspace_members.workspace_id
                   and m.user_id = (select auth.uid())
                   and m.role in ('owner', 'admin')));

create policy projects_member_all on public.projects
  for all to authenticated
  using (exists (select 1 from public.workspace_members m
                 where m.workspace_id = projects.workspace_id and m.user_id = (select auth.uid())))
  with check (exists (select 1 from public.workspace_members m
                      where m.workspace_id = projects.workspace_id
                        and m.user_id = (select auth.uid())));

create policy tasks_member_all on public.tasks
  for all to authenticated
  using (exists (select 1 from public.projects p
                 join public.workspace_members m on m.workspace_id = p.workspace_id
                 where p.id = tasks.project_id and m.user_id = (select auth.uid())));
