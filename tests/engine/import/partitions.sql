-- A partitioned table, its partitions, and a table that inherits from another.
create table measurements (
    tenant_id uuid not null,
    taken_on date not null,
    value numeric,
    primary key (tenant_id, taken_on)
) partition by range (taken_on);
create index measurements_value on measurements (value);
create table measurements_2026 partition of measurements
    for values from ('2026-01-01') to ('2027-01-01');
create table base_log (id bigint, body text);
create table special_log (severity int) inherits (base_log);
