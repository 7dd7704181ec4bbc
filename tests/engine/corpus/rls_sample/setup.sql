-- The role the application connects as; roles belong to the server, not to the schema.
do $$ begin create role app_user nologin; exception when duplicate_object then null; end $$;
