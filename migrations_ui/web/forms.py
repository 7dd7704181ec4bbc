"""The HTML forms: submit a blueprint, review a proposal, filter the proposal list.

Forms clean and shape input; the rules (who may approve, what a valid blueprint is) stay in
the models, the service and the engine, which the views call.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, replace
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from migrations_ui.models import Proposal, ProposalStatus, Target, Tenant
from migrations_ui.web.presenters.json_lines import line_of, path_lines
from migrations_ui.workflow import version_rule
from migrations_ui.workflow.environment_rule import disagreement
from schemabuilder.engine import (
    BlueprintInvalid,
    Issue,
    ValidatedEnvelope,
    json_text,
    validate_envelope,
)

MAX_UPLOAD_BYTES = 24 * 1024 * 1024  # the API's body limit: the engine's (16 MiB) decides


@dataclass(frozen=True)
class ShownIssue:
    """An issue as the editor shows it: the path in the text the person typed, and its line."""

    path: str
    message: str
    line: int | None


def shown_issues(issues: list[Issue], text: str, *, bare_payload: bool) -> list[ShownIssue]:
    """Paths relative to what was typed: a bare payload's issues lose their ``payload.``."""
    lines = path_lines(text)
    shown = []
    for issue in issues:
        path = issue.path
        if bare_payload:
            if path == "payload":
                path = "(root)"
            elif path.startswith("payload."):
                path = path[len("payload.") :]
        shown.append(ShownIssue(path, issue.message, line_of(lines, path)))
    return shown


@dataclass(frozen=True)
class Checked:
    """The result of checking the editor's text against a tenant and target."""

    text: str
    envelope: dict[str, Any] | None
    validated: ValidatedEnvelope | None
    issues: list[ShownIssue]
    bare_payload: bool


def check_blueprint(text: str, tenant: str, environment: str, force: bool) -> Checked:
    """Parse, wrap in an envelope for the chosen tenant and target, validate. Every problem
    comes back at once, each at its path (and line) in the text as typed."""
    if not text.strip():
        issue = ShownIssue(
            "(root)", "is empty: paste a blueprint, upload a .json file or start from an example", 1
        )
        return Checked(text, None, None, [issue], True)
    try:
        data = json_text.loads(text)
    except BlueprintInvalid as exc:
        return Checked(text, None, None, shown_issues(exc.issues, text, bare_payload=False), True)
    except json.JSONDecodeError as exc:
        message = f"is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        return Checked(text, None, None, [ShownIssue("(json)", message, exc.lineno)], True)
    envelope, bare, issues = _envelope(data, tenant, environment, force)
    try:
        validated = validate_envelope(envelope)
    except BlueprintInvalid as exc:
        issues = [*issues, *exc.issues]
        validated = None
    shown = shown_issues(issues, text, bare_payload=bare)
    return Checked(text, envelope, validated if not shown else None, shown, bare)


def _envelope(
    data: Any, tenant: str, environment: str, force: bool
) -> tuple[Any, bool, list[Issue]]:
    """A whole envelope (it has a ``payload``) is taken as it is, with the chosen tenant and
    target filled in; anything else is taken as the payload itself."""
    issues: list[Issue] = []
    if isinstance(data, dict) and "payload" in data:
        envelope = copy.deepcopy(data)
        meta = envelope.setdefault("meta", {})
        if isinstance(meta, dict):
            named = meta.get("tenant_id") or (envelope.get("subject") or {}).get("tenant_id")
            if named and tenant and named != tenant:
                issues.append(
                    Issue(
                        "meta.tenant_id",
                        f"this envelope is for '{named}' but you chose the tenant '{tenant}': "
                        "pick that tenant, or change the envelope",
                    )
                )
            meta.setdefault("tenant_id", tenant or None)
            meta.setdefault("trigger_source", "form")
            if issue := disagreement(meta.get("environment"), environment):
                issues.append(issue)
            elif environment:
                meta["environment"] = environment
        payload = envelope.get("payload")
        if force and isinstance(payload, dict):
            payload["force_apply"] = True
        return envelope, False, issues
    payload = copy.deepcopy(data)
    if force and isinstance(payload, dict):
        payload["force_apply"] = True
    meta = {"tenant_id": tenant or None, "trigger_source": "form"}
    if environment:
        meta["environment"] = environment
    return {"meta": meta, "payload": payload}, True, issues


class SubmitForm(forms.Form):
    tenant = forms.ChoiceField(label="Tenant")
    target = forms.ChoiceField(
        label="Target",
        required=False,
        error_messages={
            # Without JavaScript the target list follows the tenant only after a round trip.
            "invalid_choice": "%(value)s is not a target of the tenant you chose: pick one "
            "from the list, which now shows that tenant's targets."
        },
    )
    blueprint = forms.CharField(
        label="Blueprint",
        required=False,
        strip=False,
        widget=forms.Textarea(
            attrs={"class": "code", "rows": 24, "spellcheck": "false", "autocomplete": "off"}
        ),
    )
    upload = forms.FileField(label="or upload a .json file", required=False)
    force_apply = forms.BooleanField(
        label="force_apply: I know this change is dangerous; a second person must approve it",
        required=False,
    )

    def __init__(self, *args: Any, tenants: QuerySet[Tenant], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tenants = list(tenants.prefetch_related("targets"))
        self.fields["tenant"].choices = [(t.slug, f"{t.slug} · {t.name}") for t in self.tenants]
        choices = self.target_choices(self.chosen_tenant())
        self.fields["target"].choices = choices
        if not self.initial.get("target"):
            self.initial["target"] = choices[0][0]  # the default target comes first
        self.checked: Checked | None = None

    def chosen_tenant(self) -> Tenant | None:
        slug = (self.data.get("tenant") if self.is_bound else None) or self.initial.get("tenant")
        found = next((t for t in self.tenants if t.slug == slug), None)
        return found or (self.tenants[0] if self.tenants else None)

    @staticmethod
    def target_choices(tenant: Tenant | None) -> list[tuple[str, str]]:
        if tenant is None:
            return [("", "no target")]
        targets: list[Target] = list(tenant.targets.all())
        return [
            (t.environment, f"{t.environment}{' (default)' if t.is_default else ''}")
            for t in sorted(targets, key=lambda t: (not t.is_default, t.environment))
        ]

    def text(self) -> str:
        upload = self.files.get("upload") if self.is_bound else None
        if upload is not None:
            if upload.size > MAX_UPLOAD_BYTES:
                raise forms.ValidationError(
                    f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB: split the "
                    "blueprint into smaller ones."
                )
            try:
                return str(upload.read().decode("utf-8"))
            except UnicodeDecodeError:
                raise forms.ValidationError("The file is not UTF-8 text.") from None
        return str(self.cleaned_data.get("blueprint") or "")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        tenant = self.chosen_tenant()
        if tenant is None:
            raise forms.ValidationError("You cannot submit to any tenant.")
        text = self.text()
        cleaned["blueprint"] = text
        self.checked = check_blueprint(
            text, tenant.slug, cleaned.get("target") or "", bool(cleaned.get("force_apply"))
        )
        if self.checked.validated and (
            issue := version_rule.for_tenant(tenant, self.checked.validated)
        ):
            shown = shown_issues([issue], text, bare_payload=self.checked.bare_payload)
            self.checked = replace(self.checked, validated=None, issues=shown)
        if self.checked.issues:
            raise forms.ValidationError("The blueprint has problems: see them beside their paths.")
        return cleaned


class _AnyHazardIds(forms.MultipleChoiceField):
    """The ticks, as sent. Ids of an earlier plan are not a form error: the model refuses
    them under the row lock (StalePlan), and the page answers 409 with the new plan."""

    def valid_value(self, value: str) -> bool:
        return True


class ReviewForm(forms.Form):
    """Approve or reject: the button pressed decides; the ticks name the hazards read."""

    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    ack = _AnyHazardIds(required=False, widget=forms.CheckboxSelectMultiple)
    checksum = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, proposal: Proposal, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.proposal = proposal
        self.fields["ack"].choices = [
            (str(h["id"]), h["message"]) for h in proposal.dangerous_hazards
        ]
        self.fields["checksum"].initial = proposal.plan_checksum


STATUS_FILTERS = [("", "any status"), *ProposalStatus.choices]
SORTS = [("new", "newest first"), ("old", "oldest first")]


class FilterForm(forms.Form):
    tenant = forms.ChoiceField(required=False)
    target = forms.ChoiceField(required=False)
    status = forms.ChoiceField(required=False, choices=STATUS_FILTERS)
    submitter = forms.ChoiceField(required=False)
    q = forms.CharField(required=False, max_length=200, label="Search")
    sort = forms.ChoiceField(required=False, choices=SORTS)

    def __init__(self, *args: Any, tenants: QuerySet[Tenant], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tenant"].choices = [
            ("", "all tenants"),
            *[(s, s) for s in tenants.values_list("slug", flat=True)],
        ]
        envs = (
            Target.objects.filter(tenant__in=tenants)
            .order_by("environment")
            .values_list("environment", flat=True)
            .distinct()
        )
        self.fields["target"].choices = [("", "all targets"), *[(e, e) for e in envs]]
        people = (
            get_user_model()
            .objects.filter(proposals__tenant__in=tenants)
            .order_by("username")
            .values_list("username", flat=True)
            .distinct()
        )
        self.fields["submitter"].choices = [("", "anyone"), *[(u, u) for u in people]]

    def filter(self, qs: QuerySet[Proposal]) -> QuerySet[Proposal]:
        data = self.cleaned_data if self.is_valid() else {}
        if data.get("tenant"):
            qs = qs.filter(tenant__slug=data["tenant"])
        if data.get("target"):
            qs = qs.filter(target__environment=data["target"])
        if data.get("status"):
            qs = qs.filter(status=data["status"])
        if data.get("submitter"):
            qs = qs.filter(submitted_by__username=data["submitter"])
        if q := (data.get("q") or "").strip():
            # Pages print versions as v002: the v is not part of the version.
            version = q[1:] if q[:1] in ("v", "V") and q[1:2].isalnum() else q
            match = (
                Q(description__icontains=q)
                | Q(schema_version__icontains=version)
                | Q(schema_hash__startswith=q.lower())
                | Q(plan_checksum__startswith=q.lower())
            )
            if len(q) >= 4:  # a proposal id as people copy it (PostgreSQL prints it with -)
                match |= Q(id__startswith=q.lower())
            qs = qs.filter(match)
        order = "created_at" if data.get("sort") == "old" else "-created_at"
        return qs.order_by(order, "pk")
