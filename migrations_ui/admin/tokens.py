"""API tokens in the admin: see each person's tokens, who made them and when they were last
used, and revoke them. Never create one: a token acts as its user, so only that person makes
it (on /settings/tokens/); one made by an admin for someone else would let the admin act, and
approve, in their name."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from migrations_ui.admin.tools import SafeActionsMixin
from migrations_ui.models import ApiToken


class ApiTokenAdmin(SafeActionsMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "user",
        "created_by",
        "prefix",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "user__username"]
    list_select_related = ["user", "created_by"]
    actions = ["revoke_tokens"]
    readonly_fields = [
        "user",
        "created_by",
        "name",
        "prefix",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # people make their own, on /settings/tokens/

    def has_delete_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False  # revoke instead: the row keeps when it was used and by whom

    def save_model(self, request: HttpRequest, obj: ApiToken, form: object, change: bool) -> None:
        return  # a token's fields never change; revoke it instead

    @admin.action(description="Revoke the selected tokens")
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        revoked = sum(
            1
            for token in queryset.select_related("user")
            if token.revoke(request.user, via="admin")  # type: ignore[arg-type]
        )
        self.message_user(request, f"Revoked {revoked} token(s).", messages.SUCCESS)


def register() -> None:
    """Register unless the admin module already did (it owns the admin's layout)."""
    if not admin.site.is_registered(ApiToken):
        admin.site.register(ApiToken, ApiTokenAdmin)
