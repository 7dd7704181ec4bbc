-- A people directory per company: departments have a head, employees a department and a
-- manager, so the foreign keys run in a cycle and are added once both tables exist.
create table departments (
  id serial primary key,
  company_id uuid not null,
  name varchar(100) not null,
  parent_id integer references departments (id) on delete set null,
  head_employee_id integer,
  cost_center varchar(20) default 'GENERAL',
  unique (company_id, name)
);

create table employees (
  id serial primary key,
  company_id uuid not null,
  department_id integer references departments (id) on delete set default default null,
  manager_id integer references employees (id),
  email varchar(254) not null unique,
  given_name varchar(100) not null,
  family_name varchar(100) not null,
  employment varchar(12) not null default 'full_time'
    check (employment in ('full_time', 'part_time', 'contractor', 'intern')),
  salary numeric(12,2) check (salary > 0),
  hired_on date not null default current_date,
  left_on date,
  check (left_on is null or left_on >= hired_on),
  check (manager_id <> id)
);

alter table departments
  add foreign key (head_employee_id) references employees (id) on delete set null;

create index employees_department_id_idx on employees (department_id);
create index employees_manager_id_idx on employees (manager_id);
create index employees_current_idx on employees (company_id, family_name, given_name)
  where left_on is null;

alter table departments enable row level security;
alter table employees enable row level security;
create policy departments_tenant_isolation on departments
  using (company_id = nullif(current_setting('app.company_id', true), '')::uuid)
  with check (company_id = nullif(current_setting('app.company_id', true), '')::uuid);
create policy employees_tenant_isolation on employees
  using (company_id = nullif(current_setting('app.company_id', true), '')::uuid)
  with check (company_id = nullif(current_setting('app.company_id', true), '')::uuid);
-- Salaries are for HR only: the rows stay visible, updates need the role.
create policy employees_hr_update on employees as restrictive for update
  using (current_setting('app.roles', true) like '%hr%');
