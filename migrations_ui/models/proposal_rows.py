"""How proposals are read: lists and polls without the columns that grow with the plan.

``Proposal.objects`` is a ``ProposalQuerySet``: ``lean()`` for list rows, ``for_status()`` for
the status region (the few keys of the large JSON it shows, picked out by PostgreSQL; the
model's ``_json_part`` reads them).
"""

from __future__ import annotations

from django.db import models
from django.db.models.fields.json import KeyTransform

# The columns that grow with the blueprint and its plan (a 100-table plan is megabytes): lists,
# polls and waits never read them; the proposal page reads the plan, its SQL and timings.
LARGE_FIELDS = ("envelope", "blueprint", "plan", "plan_sql", "result", "timings")


class ProposalQuerySet(models.QuerySet["Proposal"]):
    def lean(self) -> ProposalQuerySet:
        """Rows as a list shows them: none of the large columns."""
        return self.defer(*LARGE_FIELDS)

    def for_status(self) -> ProposalQuerySet:
        """What the status region and the review panel read: the lean row, and of the large
        JSON only the few keys they show, picked out by PostgreSQL (see ``_json_part``)."""
        return self.lean().annotate(
            part_progress=KeyTransform("progress", "timings"),
            part_total_ms=KeyTransform("total_ms", "timings"),
            part_log_id=KeyTransform("migration_log_id", "result"),
            part_hazards=KeyTransform("hazards", "plan"),
        )
