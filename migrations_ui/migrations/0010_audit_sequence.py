"""Audit chains get sequence numbers and a checkpoint that only moves forward; retention is
bounded by age in the trigger itself.

- ``seq``: 1, 2, 3... per chain (a tenant's, or the global chain's), backfilled in id order
  (id order is chain order: ``AuditEvent.record`` draws both under the chain's lock).
- ``migrations_ui_auditcheckpoint``: each chain's last seq and hash, backfilled from its last
  event. Its trigger refuses DELETE and any UPDATE that does not raise seq, so the connection
  that removes the newest events cannot rewind the checkpoint with them.
- The append-only trigger of 0005 now lets retention delete an audit event only when the
  transaction also names a cutoff (``schemabuilder.retention_before``) that is at least
  ``MIN_RETENTION_DAYS`` old, the event is older than the cutoff, and it is not its chain's
  head. Migration records are never deleted any more.

``MIN_RETENTION_DAYS`` is a constant of the trigger (a settings row would be one more thing the
app's role could change); ``migrations_ui.audit.chain.MIN_RETENTION_DAYS`` is the same number,
and changing it takes a new migration.
"""

from django.db import migrations, models
import django.db.models.deletion
import django.utils.timezone

MIN_RETENTION_DAYS = 30

BACKFILL_SEQ = """
ALTER TABLE migrations_ui_auditevent DISABLE TRIGGER auditevent_append_only;
UPDATE migrations_ui_auditevent e SET seq = n.seq
  FROM (SELECT id, row_number() OVER (PARTITION BY tenant_id ORDER BY id) AS seq
        FROM migrations_ui_auditevent) n
 WHERE e.id = n.id;
ALTER TABLE migrations_ui_auditevent ENABLE TRIGGER auditevent_append_only;
"""

BACKFILL_CHECKPOINTS = """
INSERT INTO migrations_ui_auditcheckpoint (chain, tenant_id, seq, hash, updated_at)
SELECT DISTINCT ON (tenant_id) coalesce(tenant_id::text, 'global'), tenant_id, seq, hash, now()
  FROM migrations_ui_auditevent
 ORDER BY tenant_id, seq DESC;
"""

TRIGGERS = f"""
CREATE OR REPLACE FUNCTION schemabuilder_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  cutoff timestamptz;
  head bigint;
BEGIN
  IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'migrations_ui_auditevent'
     AND current_setting('schemabuilder.retention', true) = 'on' THEN
    cutoff := nullif(current_setting('schemabuilder.retention_before', true), '')::timestamptz;
    IF cutoff IS NULL THEN
      RAISE EXCEPTION 'retention refused: schemabuilder.retention_before is not set'
        USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF cutoff > now() - interval '{MIN_RETENTION_DAYS} days' THEN
      RAISE EXCEPTION 'retention refused: cutoff % is less than {MIN_RETENTION_DAYS} days ago', cutoff
        USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.created_at >= cutoff THEN
      RAISE EXCEPTION 'retention refused: event % is not older than the cutoff %', OLD.id, cutoff
        USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT seq INTO head FROM migrations_ui_auditcheckpoint
     WHERE chain = coalesce(OLD.tenant_id::text, 'global');
    IF head IS NULL OR OLD.seq >= head THEN
      RAISE EXCEPTION 'retention refused: event % is the head of its chain', OLD.id
        USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN OLD;
  END IF;
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'History is never edited. Old rows go only through the retention command.';
END $$;

CREATE FUNCTION schemabuilder_checkpoint_forward() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'audit checkpoints are never deleted'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF NEW.chain <> OLD.chain OR NEW.seq <= OLD.seq THEN
    RAISE EXCEPTION 'the audit checkpoint of chain % only moves forward: seq % refused after %',
      OLD.chain, NEW.seq, OLD.seq
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER auditcheckpoint_forward_only
  BEFORE UPDATE OR DELETE ON migrations_ui_auditcheckpoint
  FOR EACH ROW EXECUTE FUNCTION schemabuilder_checkpoint_forward();
"""

# Back to 0005's function: DELETE with the switch on, no age check.
TRIGGERS_BACK = """
DROP TRIGGER IF EXISTS auditcheckpoint_forward_only ON migrations_ui_auditcheckpoint;
DROP FUNCTION IF EXISTS schemabuilder_checkpoint_forward();
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
"""


class Migration(migrations.Migration):
    dependencies = [("migrations_ui", "0008_audit_indexes")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(null=True),
        ),
        migrations.RunSQL(BACKFILL_SEQ, migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.UniqueConstraint(
                fields=("tenant", "seq"), name="audit_chain_seq", nulls_distinct=False
            ),
        ),
        migrations.CreateModel(
            name="AuditCheckpoint",
            fields=[
                ("chain", models.CharField(max_length=40, primary_key=True, serialize=False)),
                ("seq", models.BigIntegerField()),
                ("hash", models.CharField(max_length=64)),
                ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "tenant",
                    models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="migrations_ui.tenant",
                    ),
                ),
            ],
        ),
        migrations.RunSQL(BACKFILL_CHECKPOINTS, migrations.RunSQL.noop),
        migrations.RunSQL(TRIGGERS, TRIGGERS_BACK),
    ]
