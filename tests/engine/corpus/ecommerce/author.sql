-- A multi-store shop: each store sees its own customers, products and orders.
create table customers (
  id bigserial primary key,
  store_id uuid not null,
  email varchar(255) not null,
  full_name text,
  accepts_marketing boolean not null default false,
  created_at timestamptz not null default now(),
  unique (store_id, email)
);

create table products (
  id bigserial primary key,
  store_id uuid not null,
  sku varchar(64) not null,
  name text not null,
  price numeric(10,2) not null check (price >= 0),
  compare_at_price numeric(10,2),
  stock integer not null default 0 check (stock >= 0),
  attributes jsonb,
  tags text[],
  active boolean not null default true,
  unique (store_id, sku),
  check (compare_at_price is null or compare_at_price >= price)
);

create index products_tags_idx on products using gin (tags);

create table orders (
  id bigserial primary key,
  store_id uuid not null,
  customer_id bigint not null references customers (id) on delete restrict,
  status varchar(20) not null default 'pending'
    check (status in ('pending', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded')),
  subtotal numeric(12,2) not null default 0,
  shipping numeric(10,2) not null default 0.00,
  total numeric(12,2) not null default 0,
  currency char(3) not null default 'USD',
  placed_at timestamptz not null default now(),
  notes text
);

create index orders_customer_id_placed_at_idx on orders (customer_id, placed_at desc);
create index orders_open_idx on orders (store_id, placed_at) where status in ('pending', 'paid');

create table order_items (
  id bigserial primary key,
  order_id bigint not null references orders (id) on delete cascade,
  product_id bigint not null references products (id),
  quantity integer not null check (quantity > 0),
  unit_price numeric(10,2) not null check (unit_price >= 0),
  discount numeric(10,2) not null default 0.00,
  unique (order_id, product_id)
);

create table payments (
  id uuid primary key default gen_random_uuid(),
  order_id bigint not null references orders (id) on delete cascade,
  amount numeric(10,2) not null check (amount > 0),
  provider varchar(32) not null,
  provider_ref varchar(128),
  status varchar(16) not null check (status in ('authorized', 'captured', 'failed', 'refunded')),
  created_at timestamptz not null default now()
);

create unique index payments_provider_ref_idx on payments (provider, provider_ref)
  where provider_ref is not null;

alter table customers enable row level security;
alter table products enable row level security;
alter table orders enable row level security;
alter table order_items enable row level security;

create policy store_isolation on customers
  using (store_id = current_setting('app.store_id', true)::uuid)
  with check (store_id = current_setting('app.store_id', true)::uuid);
create policy store_isolation on products
  using (store_id = current_setting('app.store_id', true)::uuid)
  with check (store_id = current_setting('app.store_id', true)::uuid);
create policy store_isolation on orders
  using (store_id = current_setting('app.store_id', true)::uuid)
  with check (store_id = current_setting('app.store_id', true)::uuid);
-- Items have no store_id: they are visible when their order is.
create policy via_order on order_items
  using (exists (select 1 from orders o where o.id = order_items.order_id));
