CREATE TABLE applications (id integer PRIMARY KEY, app_code text NOT NULL UNIQUE);
INSERT INTO applications VALUES (1, 'crm'), (2, 'erp');

CREATE TABLE templates (id integer PRIMARY KEY, app_code text REFERENCES applications (app_code) ON DELETE CASCADE);
INSERT INTO templates VALUES (1, 'crm');
