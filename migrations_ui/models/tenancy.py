"""Tenants, their target databases, and who may do what in them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q


class Tenant(models.Model):
    slug = models.CharField(
        max_length=63,
        unique=True,
        validators=[
            RegexValidator(
                r"^[a-z][a-z0-9_]*$",
                "Use lower-case letters, digits and underscores, starting with a letter (t_001).",
            )
        ],
    )
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    def role_of(self, user: Any) -> Role | None:
        """The user's role here; superusers act as admins everywhere; None: not a member."""
        if user is None or not user.is_authenticated:
            return None
        role = self.memberships.filter(user=user).values_list("role", flat=True).first()
        if role:
            return Role(role)
        return Role.ADMIN if acts_as_admin_everywhere(user) else None


class ApplyMode(models.TextChoices):
    """A target's ``apply_mode``: the engine's (``schemabuilder.engine.plan``)."""

    ONLINE = "online", "Online (two stages, writes continue)"
    ATOMIC = "atomic", "Atomic (one transaction)"


class Target(models.Model):
    """One database schema a tenant's blueprints are applied to.

    ``connection_alias`` names a ``TARGET_<ALIAS>_URL`` environment variable: the app's database
    never stores credentials.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="targets")
    environment = models.CharField(
        max_length=40,
        validators=[
            RegexValidator(r"^[a-z][a-z0-9_-]*$", "Use a short lower-case name (dev, prod).")
        ],
    )
    connection_alias = models.CharField(
        max_length=40,
        validators=[RegexValidator(r"^[a-z][a-z0-9_]*$", "Use the alias of TARGET_<ALIAS>_URL.")],
    )
    schema_name = models.CharField(max_length=63, default="public")
    # How long each statement of an apply waits for a lock before it gives way (and is
    # tried again, up to lock_attempts times): short, since the queries behind a waiting
    # ALTER TABLE wait too.
    lock_timeout_ms = models.PositiveIntegerField(default=2_000)
    lock_attempts = models.PositiveSmallIntegerField(
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text="Tries per statement when a lock is not granted within the lock timeout, "
        "or a deadlock aborts it.",
    )
    statement_timeout_ms = models.PositiveIntegerField(default=60_000)
    # How changes to existing tables are planned here, unless a blueprint says its own
    # ``apply_mode``: online (a quick first transaction, then the slow steps one by one while
    # writes continue) or atomic (the whole change in one transaction).
    apply_mode = models.CharField(
        max_length=10,
        choices=ApplyMode.choices,
        default=ApplyMode.ONLINE,
        help_text="online: indexes built and constraints validated after a quick first "
        "transaction, while writes continue; atomic: the whole change in one transaction. "
        "A blueprint's own apply_mode wins.",
    )
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["tenant__slug", "environment"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "environment"], name="target_env_unique"),
            models.UniqueConstraint(
                fields=["tenant"],
                condition=Q(is_default=True),
                name="target_one_default_per_tenant",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tenant.slug}/{self.environment}"

    @property
    def url_configured(self) -> bool:
        from migrations_ui.targets import target_url

        return target_url(self.connection_alias) is not None


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    SUBMITTER = "submitter", "Submitter"
    APPROVER = "approver", "Approver"
    ADMIN = "admin", "Admin"


# The roles grow: a submitter submits, an approver also approves, an admin also cancels
# anyone's proposal and administers the tenant. Defined once, here, so the models' guards and
# ``migrations_ui.access`` (which the pages, the API and the admin ask) cannot drift apart.
SUBMIT_ROLES = (Role.SUBMITTER, Role.APPROVER, Role.ADMIN)
APPROVE_ROLES = (Role.APPROVER, Role.ADMIN)


def acts_as_admin_everywhere(user: Any) -> bool:
    """Superusers: an admin of every tenant where they hold no membership of their own."""
    return bool(getattr(user, "is_superuser", False))


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        ordering = ["tenant__slug", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant} ({self.role})"


class WorkerHeartbeat(models.Model):
    """Written by the worker's periodic heartbeat job: proves jobs are actually executed."""

    worker = models.CharField(max_length=200, primary_key=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.worker} at {self.beat_at:%H:%M:%S}"


class CanonicalForm(models.Model):
    """The engine's canonical-form cache: how PostgreSQL prints a table definition, a member
    of one (a column, constraint, index or policy: schemabuilder/engine/desired/members.py) or
    a live table in a given catalog state (schemabuilder/engine/catalog/live_forms.py), per key
    and server major version. Lets a plan skip materializing and introspecting what it has seen
    before; safe to empty at any time (plans only get slower)."""

    definition_hash = models.CharField(max_length=64)
    server_major = models.PositiveSmallIntegerField()
    table = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["definition_hash", "server_major"], name="canonical_form_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.definition_hash[:12]} (PostgreSQL {self.server_major})"
