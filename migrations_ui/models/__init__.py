"""The app's models, one module per concern; import them from here."""

from migrations_ui.models.audit import AuditCheckpoint, AuditEvent
from migrations_ui.models.integrations import (
    ApiToken,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
)
from migrations_ui.models.proposals import (
    Approval,
    Decision,
    InvalidTransition,
    NotAllowedError,
    Proposal,
    ProposalStatus,
    Source,
    StalePlan,
)
from migrations_ui.models.ratelimit import RateWindow
from migrations_ui.models.records import MigrationRecord, MigrationStatus
from migrations_ui.models.tenancy import (
    ApplyMode,
    CanonicalForm,
    Membership,
    Role,
    Target,
    Tenant,
    WorkerHeartbeat,
)

__all__ = [
    "ApiToken",
    "ApplyMode",
    "Approval",
    "AuditCheckpoint",
    "AuditEvent",
    "CanonicalForm",
    "Decision",
    "DeliveryStatus",
    "InvalidTransition",
    "Membership",
    "MigrationRecord",
    "MigrationStatus",
    "NotAllowedError",
    "Proposal",
    "ProposalStatus",
    "RateWindow",
    "Role",
    "Source",
    "StalePlan",
    "Target",
    "Tenant",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WorkerHeartbeat",
]
