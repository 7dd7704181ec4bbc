"""Personal API tokens in the browser: list, create (shown once), revoke.

A token acts as its user, so each person makes and manages only their own; admins can revoke
anyone's in the admin, never make one for someone else.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from migrations_ui.models import ApiToken

NAME_MAX = ApiToken._meta.get_field("name").max_length


def _token_for_user(request: HttpRequest, pk: int) -> ApiToken:
    token = ApiToken.objects.filter(pk=pk, user=request.user).first()
    if token is None:
        raise Http404("No such token")
    return token


@never_cache  # the page that shows a new token once must never be stored anywhere
@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    """GET: the user's tokens. POST (name): create one and show it, this one time."""
    new_token = None
    error = ""
    name = ""
    if request.method == "POST":
        name = request.POST.get("name", "").strip()
        if not name:
            error = "Give the token a name, so you can recognise it later (say, 'CI deploy')."
        elif len(name) > (NAME_MAX or 100):
            error = f"Keep the name under {NAME_MAX} characters."
        else:
            token, raw = ApiToken.issue(request.user, name, by=request.user, via="web")
            new_token = {"row": token, "raw": raw}
            name = ""
    tokens = ApiToken.objects.filter(user=request.user).order_by("revoked_at", "-created_at")
    return render(
        request,
        "migrations_ui/tokens.html",
        {"tokens": tokens, "new_token": new_token, "error": error, "name": name},
        status=400 if error else 200,
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = _token_for_user(request, pk)
    if token.revoke(request.user, via="web"):
        messages.success(request, f"Revoked the token “{token.name}” ({token.prefix}…).")
    else:
        messages.info(request, f"The token “{token.name}” was already revoked.")
    return redirect("tokens:list")
