-- A multi-site blog: authors, posts, tags and threaded comments, one site_id per site.
create table authors (
  id serial primary key,
  site_id integer not null,
  handle varchar(50) not null,
  display_name text not null,
  bio text,
  avatar_url text,
  unique (site_id, handle)
);

create table posts (
  id serial primary key,
  site_id integer not null,
  author_id integer not null references authors (id),
  slug varchar(200) not null,
  title text not null,
  excerpt text,
  body text not null default '',
  metadata jsonb not null default '{}',
  status varchar(16) not null default 'draft' check (status in ('draft', 'published', 'archived')),
  published_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (site_id, slug),
  check (status <> 'published' or published_at is not null)
);

create index posts_published_idx on posts (site_id, published_at desc) where status = 'published';
create index posts_author_id_idx on posts (author_id);
create index posts_metadata_idx on posts using gin (metadata);

create table tags (
  id serial primary key,
  site_id integer not null,
  name varchar(64) not null,
  slug varchar(64) not null,
  unique (site_id, slug)
);

create table post_tags (
  id bigserial primary key,
  post_id integer not null references posts (id) on delete cascade,
  tag_id integer not null references tags (id) on delete cascade,
  unique (post_id, tag_id)
);

create index post_tags_tag_id_idx on post_tags (tag_id);

create table comments (
  id bigserial primary key,
  post_id integer not null references posts (id) on delete cascade,
  parent_id bigint references comments (id) on delete cascade,
  author_name varchar(100) not null,
  author_email varchar(255),
  body text not null,
  labels text[] not null default '{}',
  approved boolean not null default false,
  created_at timestamptz not null default now()
);

create index comments_post_id_created_at_idx on comments (post_id, created_at desc);
create index comments_labels_idx on comments using gin (labels);
create index comments_pending_idx on comments (created_at) where not approved;
