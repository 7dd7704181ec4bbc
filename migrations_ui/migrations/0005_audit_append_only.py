"""Audit events and migration records are append-only, in the database itself.

A row trigger refuses UPDATE and DELETE on both tables, whatever the client: the ORM, the
admin, or a raw SQL session of the app's role. The one documented way to remove old rows is
retention (``manage.py`` retention command), which sets ``schemabuilder.retention = 'on'`` for
its own transaction only, deletes whole chain prefixes, and records that it did. TRUNCATE is
a table-level privilege: production revokes it from the app role (see README).
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION schemabuilder_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('schemabuilder.retention', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'History is never edited. Old rows go only through the retention command.';
END $$;

CREATE TRIGGER auditevent_append_only
  BEFORE UPDATE OR DELETE ON migrations_ui_auditevent
  FOR EACH ROW EXECUTE FUNCTION schemabuilder_append_only();

CREATE TRIGGER migrationrecord_append_only
  BEFORE UPDATE OR DELETE ON migrations_ui_migrationrecord
  FOR EACH ROW EXECUTE FUNCTION schemabuilder_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS auditevent_append_only ON migrations_ui_auditevent;
DROP TRIGGER IF EXISTS migrationrecord_append_only ON migrations_ui_migrationrecord;
DROP FUNCTION IF EXISTS schemabuilder_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("migrations_ui", "0004_integrations")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
