-- Types the project keeps in a migration of their own, before its tables.
do $$ begin
  create type public.deal_stage as enum ('lead', 'qualified', 'proposal', 'won', 'lost');
exception when duplicate_object then null; end $$;
do $$ begin create role crm_user nologin; exception when duplicate_object then null; end $$;
