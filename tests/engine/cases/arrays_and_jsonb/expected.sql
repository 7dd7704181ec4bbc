SET LOCAL search_path TO public;
CREATE TABLE public.templates (
    id integer NOT NULL,
    tags text[] DEFAULT '{}'::text[] NOT NULL,
    settings jsonb DEFAULT '{}'::jsonb NOT NULL,
    scores integer[],
    price numeric(10,2),
    title character varying(255),
    status text DEFAULT 'DRAFT'::text NOT NULL,
    CONSTRAINT templates_pkey PRIMARY KEY (id),
    CONSTRAINT templates_status_check CHECK (status IN ('DRAFT', 'ACTIVE', 'DEPRECATED')),
    CONSTRAINT templates_title_key UNIQUE (title)
);
CREATE INDEX idx_templates_settings ON public.templates USING gin (settings);
CREATE INDEX idx_templates_tags ON public.templates USING gin (tags);
