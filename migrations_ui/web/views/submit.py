"""Submit a blueprint: the editor, its live validation, and the one submission service.

The live check (htmx, debounced) and the submission run the same ``check_blueprint``; the
service then validates again and plans against the target, so nothing the page accepts
can bypass a rule.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_http_methods, require_POST

from migrations_ui import workflow
from migrations_ui.access import SUBMIT_ROLES, tenants_with_role
from migrations_ui.examples import EXAMPLES, example_text
from migrations_ui.models import NotAllowedError, Source
from migrations_ui.web.forms import ShownIssue, SubmitForm, shown_issues
from migrations_ui.web.views.base import render_partial
from migrations_ui.workflow.version_rule import VersionRefused
from schemabuilder.engine import BlueprintInvalid

PAGE = "migrations_ui/proposal_new.html"


def _context(form: SubmitForm, **extra: Any) -> dict[str, Any]:
    checked = form.checked
    return {
        "form": form,
        "examples": [(key, label) for key, (label, _) in EXAMPLES.items()],
        "issues": checked.issues if checked else [],
        "validated": checked.validated if checked else None,
        "checked": checked,
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def proposal_new(request: HttpRequest) -> HttpResponse:
    tenants = tenants_with_role(request.user, SUBMIT_ROLES)
    if not tenants.exists():
        return render_partial(request, PAGE, {"cannot_submit": True}, status=403)
    if request.method == "GET":
        initial = {
            "tenant": request.GET.get("tenant", ""),
            "target": request.GET.get("target", ""),
            "blueprint": example_text(request.GET.get("example", "")) or "",
        }
        form = SubmitForm(initial=initial, tenants=tenants)
        return render_partial(request, PAGE, _context(form, example=request.GET.get("example")))

    form = SubmitForm(request.POST, request.FILES, tenants=tenants)
    valid = form.is_valid()
    if not valid or request.POST.get("action") == "check":
        return render_partial(request, PAGE, _context(form), status=200 if valid else 422)
    assert form.checked is not None and form.checked.envelope is not None
    error: Any = ""
    try:
        submission = workflow.submit(
            user=request.user,
            envelope=form.checked.envelope,
            source=Source.FORM,
            environment=form.cleaned_data.get("target") or None,
        )
    except (BlueprintInvalid, VersionRefused) as exc:
        # The target refused the blueprint while planning (PostgreSQL's own checks), or
        # another version was applied to it since the check.
        found = [exc.issue] if isinstance(exc, VersionRefused) else exc.issues
        issues: list[ShownIssue] = shown_issues(
            found, form.checked.text, bare_payload=form.checked.bare_payload
        )
        return render_partial(
            request,
            PAGE,
            _context(form, issues=issues, target_refused=True),
            status=422,
        )
    except (workflow.NotFound, NotAllowedError) as exc:
        error = str(exc)
    except workflow.IdempotencyConflict as exc:
        url = reverse("ui:proposal", args=[exc.existing.pk])
        error = format_html('{} <a href="{}">Open that proposal</a>.', str(exc), url)
    if error:
        return render_partial(request, PAGE, _context(form, submit_error=error), status=422)
    proposal = submission.proposal
    if submission.created:
        messages.success(request, f"Submitted version {proposal.schema_version}.")
    else:
        messages.info(request, "The same blueprint is already in flight: here it is.")
    return redirect("ui:proposal", pk=proposal.pk)


@login_required
@require_POST
def proposal_validate(request: HttpRequest) -> HttpResponse:
    """The editor's live check: every problem beside its path, nothing stored."""
    tenants = tenants_with_role(request.user, SUBMIT_ROLES)
    form = SubmitForm(request.POST, request.FILES, tenants=tenants)
    form.is_valid()
    return render_partial(request, PAGE, _context(form))
