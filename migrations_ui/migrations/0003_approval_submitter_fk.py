"""The database itself refuses self-approval.

Approval.submitter must be the proposal's submitter (composite foreign key onto the unique
(id, submitted_by) of proposals), and approval_not_by_submitter forbids approver = submitter.
Together no row, from the ORM or raw SQL, can record a submitter approving their own proposal.
"""

from django.db import migrations

FORWARD = """
ALTER TABLE migrations_ui_approval
  ADD CONSTRAINT approval_submitter_is_proposals
  FOREIGN KEY (proposal_id, submitter_id)
  REFERENCES migrations_ui_proposal (id, submitted_by_id)
  DEFERRABLE INITIALLY DEFERRED;
"""

BACKWARD = "ALTER TABLE migrations_ui_approval DROP CONSTRAINT approval_submitter_is_proposals;"


class Migration(migrations.Migration):
    dependencies = [("migrations_ui", "0002_proposals_audit")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
