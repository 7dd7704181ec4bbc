"""The plan cache does not grow for ever: forms older than the retention are purged daily."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from migrations_ui.models import CanonicalForm
from migrations_ui.tasks import purge_canonical_forms


def test_forms_older_than_the_retention_are_purged_and_newer_ones_kept(db, settings):
    settings.CANONICAL_FORM_RETENTION_DAYS = 14
    old = CanonicalForm.objects.create(definition_hash="a" * 64, server_major=18, table={})
    new = CanonicalForm.objects.create(definition_hash="b" * 64, server_major=18, table={})
    CanonicalForm.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=15))
    CanonicalForm.objects.filter(pk=new.pk).update(created_at=timezone.now() - timedelta(days=13))
    purge_canonical_forms(0)
    assert list(CanonicalForm.objects.values_list("definition_hash", flat=True)) == ["b" * 64]
