"""Automation's side: personal API tokens, and outbound webhooks with their delivery log."""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator
from django.db import models, transaction
from django.utils import timezone

from migrations_ui.audit.netguard import Unresolvable, UnsafeDestination, resolve
from migrations_ui.models.audit import AuditEvent

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

TOKEN_PREFIX = "sab_"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class TokenRefused(Exception):
    """Nobody makes a token for someone else: it would let its maker act under their name."""


class ApiToken(models.Model):
    """A personal token: shown once, stored hashed, named, revocable. It acts as its user.

    Only its user makes it (``created_by`` is the user); the API refuses any token whose maker
    is someone else, so no one can approve in another person's name. Making and revoking one
    are audit events of the global chain (a token belongs to a person, not to a tenant).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    # Null only when the maker's account was deleted: such a token no longer authenticates.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who made it; a token counts only when this is its user.",
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="The first characters, to recognise it.")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def made_by_its_user(self) -> bool:
        return self.created_by_id is not None and self.created_by_id == self.user_id

    def revoke(self, by: AbstractBaseUser | None = None, *, via: str = "web") -> bool:
        """Revoke the token for good; False when it already was (it stays revoked then).
        ``by``: who revoked it (its user, or an admin), for the audit trail."""
        now = timezone.now()
        with transaction.atomic():
            done = ApiToken.objects.filter(pk=self.pk, revoked_at__isnull=True).update(
                revoked_at=now
            )
            if done:
                self.revoked_at = now
                AuditEvent.record(
                    tenant=None, action="token.revoked", actor=by, data=self._audit_data(via)
                )
        return bool(done)

    @classmethod
    def issue(
        cls,
        user: AbstractBaseUser,
        name: str,
        *,
        by: AbstractBaseUser | None = None,
        via: str = "web",
    ) -> tuple[ApiToken, str]:
        """Create a token of ``user``, made by ``by`` (default: the user); returns (row, raw
        token). The raw token is never stored. Raises TokenRefused when ``by`` is someone else.
        ``via``: where it was made (web, command line), for the audit trail."""
        maker = by if by is not None else user
        if maker.pk != user.pk:
            raise TokenRefused(
                f"{maker.get_username()} cannot make a token for {user.get_username()}: a "
                "token acts as its user, so only they create it (on /settings/tokens/)."
            )
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with transaction.atomic():
            token = cls.objects.create(
                user=user, created_by=maker, name=name, prefix=raw[:12], token_hash=hash_token(raw)
            )
            AuditEvent.record(
                tenant=None, action="token.created", actor=maker, data=token._audit_data(via)
            )
        return token, raw

    def _audit_data(self, via: str) -> dict[str, object]:
        return {
            "token_id": self.pk,
            "prefix": self.prefix,
            "name": self.name,
            "user": self.user.get_username(),
            "via": via,
        }


class EventType(models.TextChoices):
    """The outbound events a tenant can subscribe to: a closed vocabulary, documented in the
    README. Audit actions map onto them in ``migrations_ui.audit.outbound``."""

    PROPOSAL_SUBMITTED = "proposal.submitted", "Proposal submitted"
    PROPOSAL_BLOCKED = "proposal.blocked", "Proposal blocked (dangerous changes)"
    PROPOSAL_AWAITING_APPROVAL = "proposal.awaiting_approval", "Proposal awaiting approval"
    PROPOSAL_APPROVED = "proposal.approved", "Proposal approved"
    PROPOSAL_REJECTED = "proposal.rejected", "Proposal rejected"
    PROPOSAL_IMPORTED = "proposal.imported", "Live schema imported as the baseline version"
    MIGRATION_APPLIED = "migration.applied", "Migration applied"
    MIGRATION_FAILED = "migration.failed", "Migration failed"
    # Reserved for drift detection (not emitted yet): subscribing to it now is harmless.
    DRIFT_DETECTED = "drift.detected", "Drift detected"


# Only http and https: a tenant admin names a web receiver, never a file or an FTP server.
http_url_validator = URLValidator(schemes=["http", "https"])


def new_webhook_secret() -> str:
    """A fresh signing secret (the tenant admin copies it into the receiver)."""
    return "whsec_" + secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    """Where a tenant wants to hear about its proposals and migrations."""

    tenant = models.ForeignKey(
        "migrations_ui.Tenant", on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.URLField(
        max_length=500,
        validators=[http_url_validator],
        help_text="http or https. Redirects are not followed.",
    )
    secret = models.CharField(
        max_length=200,
        default=new_webhook_secret,
        help_text="Signs each delivery (HMAC-SHA256); give the receiver the same value.",
    )
    event_types = models.JSONField(default=list, blank=True, help_text="Empty: every event.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["tenant__slug", "url"]

    def __str__(self) -> str:
        return f"{self.tenant.slug} → {self.url}"

    def clean(self) -> None:
        """Refuse unknown event types, and a URL that leads to a non-public address (SSRF;
        checked again before every delivery, since DNS may change). A name that does not
        resolve now is accepted: it leads nowhere yet, and delivery checks it again."""
        errors: dict[str, str] = {}
        unknown = sorted(set(self.event_types or []) - set(EventType.values))
        if unknown:
            errors["event_types"] = f"Unknown event types: {', '.join(unknown)}."
        if self.url:
            try:
                http_url_validator(self.url)
                resolve(self.url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE)
            except (ValidationError, Unresolvable):
                pass  # the field's own validator reports a malformed URL
            except UnsafeDestination as exc:
                errors["url"] = f"This URL {exc}."
        if errors:
            raise ValidationError(errors)

    def wants(self, event_type: str) -> bool:
        """Whether this endpoint subscribes to ``event_type`` (an empty list means all)."""
        return self.is_active and (not self.event_types or event_type in self.event_types)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One event sent (or being sent) to one endpoint, with every attempt's outcome."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.CharField(max_length=64)
    event_type = models.CharField(max_length=60)
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.JSONField(
        default=list, blank=True, help_text="[{at, status_code, error, ms}]"
    )
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    job_id = models.BigIntegerField(
        null=True, blank=True, help_text="The procrastinate job that delivers it."
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="delivery_endpoint_time"),
            models.Index(fields=["status", "-created_at"], name="delivery_status_time"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event_id"], name="delivery_once_per_event"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint.url} ({self.status})"

    @property
    def attempt_count(self) -> int:
        return len(self.attempts or [])
