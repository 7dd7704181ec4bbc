"""A target's schema versions only go up, in the order they are applied.

- A version already applied to the target with a different schema is refused: a version
  names one schema, forever.
- A version below the target's current one is refused. Going back is a revert: a new,
  higher version with ``payload.revert_of`` naming the earlier version it brings back (the
  history page's "Revert to this version" makes one, numbered after the current version).
- ``revert_of`` must name a version applied to that target.

Checked when a blueprint is submitted (nothing is stored when refused) and again just before
the worker applies it, because two queued proposals can be applied in another order.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from migrations_ui.models import MigrationRecord, MigrationStatus, Proposal, Target, Tenant
from migrations_ui.workflow import transitions
from schemabuilder.engine import Issue, ValidatedEnvelope

log = logging.getLogger(__name__)

VERSION_PATH = "payload.schema_version"
REVERT_PATH = "payload.revert_of"
_CHUNKS = re.compile(r"(\d+)")


class VersionRefused(Exception):
    """The version breaks the target's order; ``issue`` says where and what to do."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(f"{issue.path}: {issue.message}")
        self.issue = issue


@dataclass(frozen=True)
class _Applied:
    version: str
    schema_hash: str
    proposal_id: Any


# What a schema is, of a blueprint: its description and force_apply say nothing about it.
SCHEMA_KEYS = ("fence", "tables")


def _schema_of(blueprint: dict[str, Any]) -> dict[str, Any]:
    return {key: blueprint.get(key) for key in SCHEMA_KEYS}


def _same_schema(applied: _Applied, schema_hash: str, blueprint: dict[str, Any]) -> bool:
    if applied.schema_hash == schema_hash:
        return True
    earlier = Proposal.objects.filter(pk=applied.proposal_id).values_list("blueprint", flat=True)
    return any(_schema_of(b) == _schema_of(blueprint) for b in earlier)


def version_key(version: str) -> tuple[tuple[int, int, str], ...]:
    """Natural order: ``2`` < ``10``, ``001`` == ``1``, ``1.9`` < ``1.10``."""
    parts = []
    for chunk in _CHUNKS.split(version.strip().lower()):
        if chunk.isdigit():
            parts.append((0, int(chunk), ""))
        elif chunk.strip(".-_ v"):
            parts.append((1, 0, chunk))
    return tuple(parts)


def next_version(version: str) -> str:
    """The version after ``version``, in its own style: ``004`` → ``005``, ``1.9`` → ``1.10``."""
    numbers = list(_CHUNKS.finditer(version))
    if not numbers:
        return f"{version}.1"
    last = numbers[-1]
    bumped = str(int(last.group()) + 1).zfill(len(last.group()))
    return version[: last.start()] + bumped + version[last.end() :]


def _applied(target: Target) -> list[_Applied]:
    """The target's successful changes, newest first."""
    rows = (
        MigrationRecord.objects.filter(target=target, status=MigrationStatus.SUCCESS)
        .order_by("-created_at", "-pk")
        .values_list("version", "schema_hash", "proposal_id")
    )
    return [_Applied(*row) for row in rows]


def refusal(
    target: Target,
    version: str,
    schema_hash: str,
    revert_of: str | None,
    blueprint: dict[str, Any],
) -> Issue | None:
    """Why ``version`` (with this blueprint, as stored) may not be applied to ``target``
    next, or None."""
    applied = _applied(target)
    if not applied:
        return (
            Issue(
                REVERT_PATH,
                f"names '{revert_of}', but nothing was applied to "
                f"{target.environment} yet: remove revert_of",
            )
            if revert_of
            else None
        )
    current = applied[0]
    key = version_key(version)
    same = next((a for a in applied if version_key(a.version) == key), None)
    after = next_version(current.version)
    if same is not None and not _same_schema(same, schema_hash, blueprint):
        return Issue(
            VERSION_PATH,
            f"version {version} was already applied to {target.environment} with a different "
            f"schema: a version names one schema; give this blueprint the next version, "
            f"{after}",
        )
    if key < version_key(current.version):
        lower = (
            f"version {version} is lower than {target.environment}'s current version "
            f"{current.version}: versions only go up"
        )
        if same is None:
            return Issue(VERSION_PATH, f"{lower}; give this blueprint the next version, {after}")
        return Issue(
            VERSION_PATH,
            f"{lower}. To bring back v{same.version}'s schema, submit it as version {after} "
            f'with payload.revert_of: "{same.version}", or use Revert to this version on the '
            "history page",
        )
    if revert_of and not any(version_key(a.version) == version_key(revert_of) for a in applied):
        known = ", ".join(dict.fromkeys(a.version for a in reversed(applied)))
        return Issue(
            REVERT_PATH,
            f"names '{revert_of}', which was never applied to {target.environment} "
            f"(applied: {known}): name one of those",
        )
    return None


def check(target: Target, validated: ValidatedEnvelope) -> None:
    issue = _refusal_of(target, validated)
    if issue is not None:
        raise VersionRefused(issue)


def revert_of(proposal: Proposal) -> str | None:
    """The stored envelope's ``payload.revert_of``."""
    payload = (
        (proposal.envelope or {}).get("payload") if isinstance(proposal.envelope, dict) else None
    )
    value = payload.get("revert_of") if isinstance(payload, dict) else None
    return str(value) if value else None


def refused_at_apply(proposal: Proposal) -> bool:
    """Check the order again as the worker is about to apply (another proposal to the same
    target may have been applied since this one was submitted): when it is broken now, fail
    the proposal with the reason and apply nothing. True when it was refused."""
    issue = refusal(
        proposal.target,
        proposal.schema_version,
        proposal.schema_hash,
        revert_of(proposal),
        proposal.blueprint,
    )
    if issue is None:
        return False
    reason = f"Refused before applying: {issue.path}: {issue.message}. Nothing was changed."
    log.warning("proposal %s: %s", proposal.pk, reason)
    transitions.mark_failed(proposal, reason)
    return True


def for_tenant(tenant: Tenant, validated: ValidatedEnvelope) -> Issue | None:
    """The refusal for the target the envelope names (or the tenant's default), as the
    editor shows it beside the version; None when there is no such target (the submission
    says so itself)."""
    targets = tenant.targets.all()
    target = (
        targets.filter(environment=validated.environment).first()
        if validated.environment
        else targets.filter(is_default=True).first()
    )
    return _refusal_of(target, validated) if target is not None else None


def _refusal_of(target: Target, validated: ValidatedEnvelope) -> Issue | None:
    bp = validated.blueprint
    return refusal(
        target,
        bp.schema_version,
        validated.schema_hash,
        validated.revert_of,
        bp.model_dump(mode="json", include=set(SCHEMA_KEYS)),
    )
