"""API tokens in the admin: an admin creates a token for any person (shown once, on the page
that answers the form), sees when each was last used, and revokes them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from migrations_ui.models import ApiToken


class ApiTokenCreateForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["user", "name"]


class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "user__username"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]
    actions = ["revoke_tokens"]
    readonly_fields = ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    fields = readonly_fields

    def get_form(
        self, request: HttpRequest, obj: ApiToken | None = None, **kwargs: Any
    ) -> type[forms.ModelForm]:
        if obj is None:
            kwargs["form"] = ApiTokenCreateForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> list[str]:
        return ["user", "name"] if obj is None else list(self.readonly_fields)

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> list[str]:
        return [] if obj is None else list(self.readonly_fields)

    def has_delete_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False  # revoke instead: the row keeps when it was used and by whom

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            return  # a token's fields never change; revoke it instead
        token, raw = ApiToken.issue(form.cleaned_data["user"], form.cleaned_data["name"])
        obj.pk = token.pk
        request._new_api_token = (token, raw)  # type: ignore[attr-defined]

    def response_add(
        self, request: HttpRequest, obj: ApiToken, post_url_continue: str | None = None
    ) -> HttpResponse:
        # Answer the form with the token itself: never redirect with it in a message, which
        # would put the secret in a cookie or the session.
        token, raw = request._new_api_token  # type: ignore[attr-defined]
        context = {
            **self.admin_site.each_context(request),
            "title": "Token created",
            "token": token,
            "raw": raw,
            "opts": self.opts,
        }
        response = TemplateResponse(request, "migrations_ui/tokens_admin_created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke the selected tokens")
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        revoked = sum(1 for token in queryset if token.revoke())
        self.message_user(request, f"Revoked {revoked} token(s).", messages.SUCCESS)


def register() -> None:
    """Register unless the admin module already did (it owns the admin's layout)."""
    if not admin.site.is_registered(ApiToken):
        admin.site.register(ApiToken, ApiTokenAdmin)
