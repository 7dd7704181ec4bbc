"""The migration log: the seed's ``schema_migrations`` rows, one per settled change."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from migrations_ui.models.audit import AuditCheckpoint

if TYPE_CHECKING:
    from migrations_ui.models.proposals import Proposal


class MigrationStatus(models.TextChoices):
    SUCCESS = "success", "Success"
    FAILED = "failed", "Failed"
    BLOCKED = "blocked", "Blocked"
    NOOP = "noop", "No-op"
    # An online change whose first stage committed and whose second did not finish: failed,
    # but its new tables, types and functions exist and are managed from here on.
    PARTIAL = "partial", "Partial (first stage committed)"


# The records whose blueprint says what is managed on the target: a change applied, or one
# whose first stage committed (what that stage created is the tool's, not a stranger's).
MANAGING = (MigrationStatus.SUCCESS, MigrationStatus.PARTIAL)


class MigrationRecord(models.Model):
    """The seed's schema_migrations row, per tenant and target, plus the snapshot after it."""

    tenant = models.ForeignKey(
        "migrations_ui.Tenant", on_delete=models.PROTECT, related_name="migrations"
    )
    target = models.ForeignKey(
        "migrations_ui.Target", on_delete=models.PROTECT, related_name="migrations"
    )
    proposal = models.ForeignKey(
        "migrations_ui.Proposal",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="migration_records",
    )
    version = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    applied_by = models.CharField(max_length=150)
    checksum = models.CharField(max_length=64, blank=True)
    schema_hash = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=10, choices=MigrationStatus.choices)
    error_message = models.TextField(blank=True)
    sql_script = models.TextField(blank=True)
    metadata = models.JSONField(encoder=DjangoJSONEncoder, default=dict, blank=True)
    snapshot = models.JSONField(
        encoder=DjangoJSONEncoder,
        null=True,
        blank=True,
        help_text="The managed schema after this change (success, and partial: what the "
        "first stage left).",
    )
    snapshot_hash = models.CharField(max_length=64, blank=True)
    managed_tables = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["target", "-created_at"], name="migration_target_time"),
            models.Index(
                fields=["tenant", "status", "-created_at"], name="migration_tenant_status"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} v{self.version} {self.status}"

    @property
    def log_id(self) -> str:
        """The seed's ``migration_log_id`` form."""
        return f"ml_{self.pk}"

    @classmethod
    def for_proposal(
        cls, proposal: Proposal, status: str, *, error: str = "", **fields: Any
    ) -> MigrationRecord:
        metadata = {
            "run_id": proposal.run_id,
            "hazards": proposal.hazards,
            # The tenant's audit chain head as this change is recorded (see AuditCheckpoint).
            "audit_head": AuditCheckpoint.head(proposal.tenant_id),
            **fields.pop("metadata", {}),
        }
        values: dict[str, Any] = {
            "tenant": proposal.tenant,
            "target": proposal.target,
            "proposal": proposal,
            "version": proposal.schema_version,
            "description": proposal.description,
            "applied_by": proposal.submitted_by.get_username(),
            "checksum": proposal.plan_checksum,
            "schema_hash": proposal.schema_hash,
            "status": status,
            "error_message": error,
            "sql_script": proposal.plan_sql,
            "metadata": metadata,
        }
        values.update(fields)
        return cls.objects.create(**values)

    @classmethod
    def managed_for(cls, target: Any) -> set[str]:
        """The tables this tool manages on a target: those of its last successful change (or
        partial one, see ``MANAGING``)."""
        last = (
            cls.objects.filter(target=target, status__in=MANAGING)
            .order_by("-created_at")
            .values_list("managed_tables", flat=True)
            .first()
        )
        return set(last or ())

    @classmethod
    def managed_types_for(cls, target: Any) -> set[str]:
        """The enum types this tool manages on a target: those its last successful change's
        blueprint declared (a type a later blueprint no longer declares is dropped)."""
        last = (
            cls.objects.filter(target=target, status__in=MANAGING)
            .order_by("-created_at")
            .values_list("proposal__blueprint", flat=True)
            .first()
        )
        types = (last or {}).get("types", []) if isinstance(last, dict) else []
        return {str(t["name"]) for t in types if isinstance(t, dict) and "name" in t}

    @classmethod
    def managed_functions_for(cls, target: Any) -> set[str]:
        """The functions this tool manages on a target, by name: those its last successful
        change's blueprint declared (one a later blueprint no longer declares is dropped)."""
        last = (
            cls.objects.filter(target=target, status__in=MANAGING)
            .order_by("-created_at")
            .values_list("proposal__blueprint", flat=True)
            .first()
        )
        functions = (last or {}).get("functions", []) if isinstance(last, dict) else []
        return {str(f["name"]) for f in functions if isinstance(f, dict) and "name" in f}
