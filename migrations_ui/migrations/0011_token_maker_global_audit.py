"""Tokens record who made them; audit events may belong to no tenant (the global chain).

- ``ApiToken.created_by``: who made the token. The API refuses a token whose maker is not its
  user (made for someone else, it would let its maker act in their name). Existing tokens are
  backfilled from the admin's log: a token added in the admin was made by the admin who added
  it (and so stops working unless that admin is its user); every other token was made on the
  settings page or with ``create_token``, by or for its user, and keeps working.
- ``AuditEvent.tenant`` becomes nullable: token creation and revocation are audit events of
  the global chain (``seq`` and the checkpoint already number it, see 0010).
"""

from typing import Any

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def backfill_makers(apps: Any, schema_editor: Any) -> None:
    ApiToken = apps.get_model("migrations_ui", "ApiToken")
    LogEntry = apps.get_model("admin", "LogEntry")
    ContentType = apps.get_model("contenttypes", "ContentType")
    kind = ContentType.objects.filter(app_label="migrations_ui", model="apitoken").first()
    if kind is not None:
        added = LogEntry.objects.filter(content_type=kind, action_flag=1)  # ADDITION
        for object_id, admin_id in added.values_list("object_id", "user_id"):
            if object_id and object_id.isdigit():
                ApiToken.objects.filter(pk=int(object_id), created_by__isnull=True).update(
                    created_by_id=admin_id
                )
    ApiToken.objects.filter(created_by__isnull=True).update(created_by_id=models.F("user_id"))


class Migration(migrations.Migration):
    dependencies = [
        ("migrations_ui", "0010_audit_sequence"),
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="created_by",
            field=models.ForeignKey(
                blank=True,
                help_text="Who made it; a token counts only when this is its user.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(backfill_makers, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="auditevent",
            name="tenant",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="audit_events",
                to="migrations_ui.tenant",
            ),
        ),
    ]
