"""The entry point of the contract: raw JSON in, a validated and normalized blueprint out.

``validate_envelope`` and ``validate_payload`` report every problem at once, each with its
JSON path, as ``BlueprintInvalid``. Three layers run in turn, each reporting everything it
finds: limits on the raw JSON (size, depth), the pydantic models (shape, types, names, SQL
fragments), then the rules that need the whole blueprint (duplicates, references).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import uuid
from collections.abc import Sequence
from copy import deepcopy
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from schemabuilder.engine.contract import rules
from schemabuilder.engine.contract.blueprint import (
    Context,
    Envelope,
    Fence,
    Meta,
    Payload,
    Subject,
    Table,
    field_model,
    known_keys,
)
from schemabuilder.engine.contract.errors import BlueprintInvalid, Issue
from schemabuilder.engine.contract.functions import check_functions
from schemabuilder.engine.contract.normalize import (
    NormalizedBlueprint,
    NTable,
    Origin,
    canonical_json,
    normalize_fence,
    normalize_payload,
    normalize_table,
)
from schemabuilder.engine.contract.triggers import UNION_BRANCHES
from schemabuilder.engine.contract.types import check_types

# 10,000 realistic tables (``bench.schemas.blueprint(10000)``) are 10.6 MB: room for longer
# comments and policies, still refused in milliseconds (see ``_limits``).
MAX_PAYLOAD_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 32  # a valid envelope nests about 9 levels deep
MAX_ISSUES = 500  # beyond this, more messages help nobody and cost memory


@dataclass(frozen=True)
class ValidatedEnvelope:
    """An accepted envelope: defaults filled in, blueprint normalized and hashed."""

    tenant_id: str
    environment: str | None
    meta: Meta
    context: Context
    blueprint: NormalizedBlueprint
    schema_hash: str
    idempotency_key: str
    canonical_json: str
    revert_of: str | None = None  # payload.revert_of: the earlier version this one brings back


def format_path(loc: Sequence[int | str], prefix: str = "") -> str:
    """``("tables", 2, "columns", 0, "type")`` -> ``tables[2].columns[0].type``."""
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path or "(root)"


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def _limits(data: object, prefix: str) -> list[Issue]:
    """Size and depth limits on the raw JSON, checked before the models see it.

    The size comes from the C JSON encoder, so a hostile 5 MB document is refused in
    milliseconds; the depth walk is iterative, so no nesting (not even a reference cycle
    built in Python) can exhaust the stack.
    """
    if not isinstance(data, dict | list):
        return []
    try:
        size = len(json.dumps(data, ensure_ascii=False, default=repr))
    except (ValueError, RecursionError):
        size = -1  # a cycle or nesting deeper than the encoder goes: found by the walk below
    if size > MAX_PAYLOAD_BYTES:
        return [
            Issue(
                prefix or "(root)",
                f"is {size / 1e6:.1f} MB; the limit is {MAX_PAYLOAD_BYTES / 1e6:.1f} MB: split "
                "the blueprint into smaller ones or shorten its comments",
            )
        ]
    if size >= 0:
        # The models never descend further than their own shape, so nesting the encoder
        # could handle is reported by them, at the exact key, with a better message.
        return []
    stack: list[tuple[dict[Any, Any] | list[Any], tuple[int | str, ...]]] = [(data, ())]
    while stack:
        value, loc = stack.pop()
        if len(loc) >= MAX_DEPTH:
            return [
                Issue(
                    format_path(loc, prefix),
                    f"is nested more than {MAX_DEPTH} levels deep; a blueprint never needs "
                    "that: replace this value with the string, number or object the key expects",
                )
            ]
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(item, dict | list):
                stack.append((item, (*loc, key if isinstance(key, int) else str(key))))
    return []


def _model_at(root: type[BaseModel], loc: Sequence[int | str]) -> type[BaseModel] | None:
    model: type[BaseModel] | None = root
    for part in loc:
        if model is None:
            return None
        if isinstance(part, str):
            model = field_model(model, part)
    return model


def _message(error: Any, root: type[BaseModel]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    loc = error["loc"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        model = _model_at(root, loc[:-1])
        known = known_keys(model) if model else ()
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'? " if close else ""
        return (
            f"unknown key '{key[:60]}': {hint}remove it or use one of: {', '.join(known)}"
            if known
            else f"unknown key '{key[:60]}': remove it"
        )
    if kind == "missing":
        return f"'{loc[-1]}' is required: add it"
    got = _json_kind(error.get("input"))
    expected = {
        "string_type": "a string",
        "bool_type": "true or false",
        "list_type": "a list [...]",
        "model_type": "an object {...}",
        "model_attributes_type": "an object {...}",
        "dict_type": "an object {...}",
        "int_type": "a whole number",
    }.get(kind)
    if expected:
        return f"must be {expected}, not {got}"
    if kind == "string_unicode":
        return "contains text that is not valid Unicode (a lone surrogate): remove it"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"is too long: at most {ctx.get('max_length'):,} characters"
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length')} item(s): add one"
    if kind == "too_long":
        return (
            f"has too many items: at most {ctx.get('max_length'):,}; split the blueprint "
            "or the table into smaller ones"
        )
    return str(error["msg"])


def _pydantic_issues(exc: ValidationError, root: type[BaseModel], prefix: str) -> list[Issue]:
    issues = []
    for error in exc.errors(include_url=False):
        loc = error["loc"]
        if error["type"] == "literal_error" and loc and str(loc[-1]).startswith("literal["):
            if any(p in UNION_BRANCHES for p in loc) or not isinstance(error.get("input"), str):
                continue  # an object where a word would do: the object's own errors say more
            loc = loc[:-1]  # the union branch name means nothing to the person reading
        if any(p in UNION_BRANCHES for p in loc):
            loc = tuple(p for p in loc if p not in UNION_BRANCHES)
            error = {**error, "loc": loc}
        issues.append(Issue(format_path(loc, prefix), _message(error, root)))
    return issues


def _sort_key(issue: Issue) -> tuple[object, ...]:
    parts: list[object] = []
    for chunk in issue.path.replace("]", "").replace("[", ".").split("."):
        parts.append((0, int(chunk), "") if chunk.isdigit() else (1, 0, chunk))
    return tuple(parts)


def _finish(issues: list[Issue]) -> BlueprintInvalid:
    unique = list(dict.fromkeys(issues))
    unique.sort(key=_sort_key)
    if len(unique) > MAX_ISSUES:
        more = len(unique) - MAX_ISSUES
        unique = [
            *unique[:MAX_ISSUES],
            Issue(unique[MAX_ISSUES].path, f"and {more:,} more problems: fix these first"),
        ]
    return BlueprintInvalid(unique)


_PLACEHOLDERS: dict[str, str] = {"type": "TEXT", "expression": "true"}


def _repair(raw: Any, loc: Sequence[int | str], serial: int) -> bool:
    """Neutralize the field at ``loc`` in ``raw`` (in place); False when it cannot be done.

    An optional field is removed (it falls back to its default), a required name, type or
    expression gets a harmless placeholder. A broken list item cannot be removed without
    shifting the paths of the items after it, so that gives up.
    """
    for depth in range(len(loc), 0, -1):
        key = loc[depth - 1]
        if isinstance(key, int):
            return False
        model = _model_at(Table, loc[: depth - 1])
        field = model.model_fields.get(key) if model else None
        parent = raw
        for part in loc[: depth - 1]:
            parent = parent[part]
        if not isinstance(parent, dict):
            return False
        if field is None or not field.is_required():
            parent.pop(key, None)
            return True
        if key == "name":
            parent[key] = f"invalid_name_{serial}"
            return True
        if key in _PLACEHOLDERS:
            parent[key] = _PLACEHOLDERS[key]
            return True
    return False


def _repaired_table(raw: object) -> Table | None:
    """The table, or a copy with its broken fields neutralized, or None if beyond repair."""
    try:
        return Table.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
    if not isinstance(raw, dict):
        return None
    copy = deepcopy(raw)
    for serial, error in enumerate(errors):
        loc = error["loc"]
        if loc and str(loc[-1]).startswith(("literal[", "bool")):
            loc = loc[:-1]
        try:
            if not _repair(copy, loc, serial):
                return None
        except (KeyError, IndexError, TypeError):
            return None
    try:
        return Table.model_validate(copy)
    except ValidationError:
        return None


def _partial_rules(data: object, prefix: str) -> list[Issue]:
    """The cross-reference rules on the tables that are themselves well formed.

    When part of a payload is malformed the whole model cannot be built, yet the person
    still wants every other problem in the same answer.
    """
    if not isinstance(data, dict) or not isinstance(data.get("tables"), list):
        return []
    auto = data.get("auto_columns", True) is not False
    try:
        fence = normalize_fence(Fence.model_validate(data.get("fence") or {}))
    except ValidationError:
        fence = normalize_fence(None)
    pairs: list[tuple[str, NTable, Origin]] = []
    for i, raw in enumerate(data["tables"]):
        table = _repaired_table(raw)
        if table is None:
            continue
        normalized, origin = normalize_table(table, fence, auto=auto)
        pairs.append((f"{prefix}.tables[{i}]", normalized, origin))
    return rules.check_tables(pairs)


def _payload(data: object, prefix: str) -> NormalizedBlueprint:
    issues = _limits(data, prefix)
    if issues:
        raise _finish(issues)
    try:
        payload = Payload.model_validate(data)
    except ValidationError as exc:
        issues = _pydantic_issues(exc, Payload, prefix)
        # A tables list that is itself refused (too long, not a list) is not worth a look.
        if not any(i.path == f"{prefix}.tables" for i in issues):
            issues.extend(_partial_rules(data, prefix))
        raise _finish(issues) from None
    blueprint, origins = normalize_payload(payload)
    pairs = [
        (f"{prefix}.tables[{i}]", table, origin)
        for i, (table, origin) in enumerate(zip(blueprint.tables, origins, strict=True))
    ]
    issues = rules.check_tables(pairs)
    issues += check_types(blueprint.types, {t.name for t in blueprint.tables}, prefix)
    issues += check_functions(blueprint.functions, prefix)
    if issues:
        raise _finish(issues)
    return blueprint


def validate_payload(data: object, path_prefix: str = "payload") -> NormalizedBlueprint:
    """Validate and normalize a bare payload (the blueprint without its envelope).

    Raises ``BlueprintInvalid`` listing every problem, paths starting with ``path_prefix``.
    """
    return _payload(data, path_prefix)


def _part(model: type[BaseModel], data: dict[str, Any], key: str) -> tuple[Any, list[Issue]]:
    value = data.get(key)
    if value is None:
        return model(), []
    issues = _limits(value, key)
    if issues:
        return model(), issues
    try:
        return model.model_validate(value), []
    except ValidationError as exc:
        return model(), _pydantic_issues(exc, model, key)


def validate_envelope(
    data: object, *, now: datetime | None = None, run_id: str | None = None
) -> ValidatedEnvelope:
    """Validate an envelope, fill in its defaults, and normalize and hash its blueprint.

    Only ``payload`` and a tenant (``meta.tenant_id`` or ``subject.tenant_id``) are
    required; when both tenant ids are given they must agree. ``environment`` stays None
    when absent: the caller resolves it to the tenant's default target. ``now`` and
    ``run_id`` fix the defaults that would otherwise come from the clock and a random id.
    Raises ``BlueprintInvalid`` listing every problem found.
    """
    if not isinstance(data, dict):
        raise _finish([Issue("(root)", f"must be an object {{...}}, not {_json_kind(data)}")])
    issues: list[Issue] = []
    known = known_keys(Envelope)
    for key in data:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'? " if close else ""
            issues.append(
                Issue(
                    str(key)[:60],
                    f"unknown key '{str(key)[:60]}': {hint}remove it or use "
                    f"one of: {', '.join(known)}",
                )
            )
    meta, found = _part(Meta, data, "meta")
    issues.extend(found)
    subject, found = _part(Subject, data, "subject")
    issues.extend(found)
    context, found = _part(Context, data, "context")
    issues.extend(found)
    meta_tenant, subject_tenant = meta.tenant_id, subject.tenant_id
    if (
        meta_tenant is None
        and subject_tenant is None
        and not any(i.path.endswith("tenant_id") for i in issues)
    ):
        issues.append(
            Issue(
                "meta.tenant_id",
                "a tenant is required: set meta.tenant_id or subject.tenant_id",
            )
        )
    elif meta_tenant and subject_tenant and meta_tenant != subject_tenant:
        issues.append(
            Issue(
                "subject.tenant_id",
                f"'{subject_tenant}' does not match meta.tenant_id '{meta_tenant}': "
                "an envelope is for one tenant; make them agree or drop one",
            )
        )
    blueprint: NormalizedBlueprint | None = None
    if "payload" not in data:
        issues.append(Issue("payload", "'payload' is required: add the blueprint"))
    else:
        try:
            blueprint = validate_payload(data["payload"])
        except BlueprintInvalid as invalid:
            issues.extend(invalid.issues)
        if blueprint is not None and _revert_of(data["payload"]) == blueprint.schema_version:
            issues.append(
                Issue(
                    "payload.revert_of",
                    f"names this very version '{blueprint.schema_version}': a revert is a new "
                    "version that brings back an earlier one; give it the next version number",
                )
            )
    if issues or blueprint is None:
        raise _finish(issues)
    tenant = meta_tenant or subject_tenant
    assert tenant is not None
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    meta = meta.model_copy(
        update={
            "tenant_id": tenant,
            "workflow_version": meta.workflow_version or "2.0.0",
            "workflow_run_id": meta.workflow_run_id or run_id or f"wr_{uuid.uuid4().hex}",
            "trigger_source": meta.trigger_source or "api",
            "timestamp_utc": meta.timestamp_utc or stamp,
        }
    )
    context = context.model_copy(update={"actor_id": context.actor_id or "system"})
    # One serialization serves the hash, the key and the stored text: at 1,000 tables it is
    # the most expensive step after validation itself.
    text = canonical_json(blueprint)
    digest = hashlib.sha256(text.encode()).hexdigest()
    return ValidatedEnvelope(
        tenant_id=tenant,
        environment=meta.environment,
        meta=meta,
        context=context,
        blueprint=blueprint,
        schema_hash=digest,
        idempotency_key=f"idem:wf106:{tenant}:{blueprint.schema_version}:{digest}",
        canonical_json=text,
        revert_of=_revert_of(data["payload"]),
    )


def _revert_of(payload: Any) -> str | None:
    """``payload.revert_of`` of an accepted payload (the model checked its type)."""
    revert_of = payload.get("revert_of") if isinstance(payload, dict) else None
    return str(revert_of) if revert_of else None
