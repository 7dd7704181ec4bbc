"""The Django admin: setup models for superusers, and the audit trail for auditors.

Audit events, migration records, proposals, approvals and webhook deliveries are read-only for
everyone (no add, change or delete; the database refuses edits of audit events and migration
records anyway). Superusers see every tenant; a tenant admin (membership role admin) sees the
tenants they administer (``migrations_ui.admin.scoping``). Lists stay fast on large tables: no
full count, filters whose choices come from small tables, searches that use indexes (see
``migrations_ui.admin.tools`` and the indexes of ``AuditEvent``).

Django's autodiscovery imports this package; importing the modules below registers their
admins. API tokens get theirs in ``MigrationsUiConfig.ready`` (``migrations_ui.admin.tokens``).
"""

from migrations_ui.admin import (  # noqa: F401  (importing registers the admins)
    audit,
    proposals,
    scoping,  # connects the is_staff signal
    setup,
    webhooks,
)
