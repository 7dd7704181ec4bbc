"""Building blocks of the audit admin: tenant scoping, list filters that stay cheap on a
million rows, a paginator that never counts a whole table, and code rendering.

Why each piece exists:

- Django's ``RelatedFieldListFilter`` lists every tenant, target and user; a tenant admin must
  see only their own, so the filters here ask ``admin.scoping``.
- ``RelatedOnlyFieldListFilter`` and ``AllValuesFieldListFilter`` run ``SELECT DISTINCT`` over
  the filtered table; on the audit table that is a full scan. The filters here read their
  choices from the small tables (tenants, targets, memberships), and the action filter walks
  the action index with a recursive query (one index probe per distinct action).
- The changelist's paginator counts every match; ``CappedCountPaginator`` stops counting at
  ``AUDIT_ADMIN_COUNT_LIMIT`` and the page says "more than".
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from functools import cached_property, lru_cache
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.utils import quote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponseBadRequest
from django.urls import get_script_prefix, reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import JsonLexer, PostgresLexer

from migrations_ui.admin.scoping import admin_tenant_ids, sees_any, sees_tenant
from migrations_ui.models import Membership, Target, Tenant

# Highlighting a multi-megabyte snapshot would cost seconds for nobody: beyond this many
# characters the text is shown plain.
HIGHLIGHT_LIMIT = 200_000
# A filter offers at most this many choices until a tenant is picked (see _bounded).
CHOICES_LIMIT = 50
TENANT_PARAM = "tenant"
_FORMATTER = HtmlFormatter(cssclass="sb-code")
_EMPTY = mark_safe("—")


# ---- pagination -------------------------------------------------------------------------------


class CappedCountPaginator(Paginator):
    """Counts matches up to ``AUDIT_ADMIN_COUNT_LIMIT`` (``SELECT count(*) FROM (... LIMIT n)``)
    and sets ``capped`` when there are more; pages past the limit are not offered."""

    capped = False

    @cached_property
    def count(self) -> int:
        limit = settings.AUDIT_ADMIN_COUNT_LIMIT
        object_list = self.object_list
        if isinstance(object_list, QuerySet):
            # Without ORDER BY the planner may take any index to find the first n matches.
            found = object_list.order_by()[: limit + 1].count()
        else:
            found = len(object_list)
        self.capped = found > limit
        return min(found, limit)


# ---- tenant scoping ---------------------------------------------------------------------------


def tenant_id_of(obj: Model, path: str) -> int | None:
    """Follow ``path`` (``tenant`` or ``proposal__tenant``) from ``obj`` to a tenant id."""
    *hops, last = path.split("__")
    current: Any = obj
    for hop in hops:
        current = getattr(current, hop, None)
        if current is None:
            return None
    return getattr(current, f"{last}_id", None)


class SafeActionsMixin:
    """An action POST whose selection is not a list of ids (empty, or crafted) is a 400, not
    the 500 Django gives when it casts ``_selected_action`` to the primary key's type."""

    def response_action(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        pk = self.model._meta.pk  # type: ignore[attr-defined]
        try:
            for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
                pk.to_python(value)
        except ValidationError:
            return HttpResponseBadRequest("The selection is not a list of ids: pick rows.")
        return super().response_action(request, *args, **kwargs)  # type: ignore[misc]


class TenantScopedAdmin(SafeActionsMixin, admin.ModelAdmin):
    """Superusers see every row; tenant admins the rows of the tenants they administer.

    ``tenant_path`` is the lookup from the model to its tenant. View permission comes from
    memberships (``admin.scoping``), not from Django's permission tables.
    """

    tenant_path = "tenant"
    paginator = CappedCountPaginator
    show_full_result_count = False  # no COUNT(*) of the whole table on every page
    show_facets = admin.ShowFacets.NEVER  # facet counts would scan the table per filter
    list_per_page = 50

    class Media:
        css = {"all": ["migrations_ui/audit_admin.css"]}

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return FastChangeList

    def get_empty_value_display(self) -> SafeString:
        # Django asks for every cell of the list (a lazy translation each time).
        return _EMPTY

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        ids = admin_tenant_ids(request)
        if ids is None:
            return qs
        if len(ids) == 1:
            # Equality, not IN: the planner then walks the (tenant, id) index in order.
            return qs.filter(**{f"{self.tenant_path}_id": next(iter(ids))})
        return qs.filter(**{f"{self.tenant_path}_id__in": sorted(ids)})

    def has_module_permission(self, request: HttpRequest) -> bool:
        return sees_any(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        if obj is None:
            return sees_any(request)
        return sees_tenant(request, tenant_id_of(obj, self.tenant_path))


class ReadOnlyAdmin(TenantScopedAdmin):
    """History is never edited from the admin: no add, change or delete, for anyone."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        # Belt and braces: a crafted POST to a view-only page is refused before any form.
        if request.method == "POST":
            raise PermissionDenied
        return super().changeform_view(request, *args, **kwargs)


# ---- list filters ---------------------------------------------------------------------------


def _visible_tenants(request: HttpRequest) -> QuerySet[Tenant]:
    ids = admin_tenant_ids(request)
    tenants = Tenant.objects.order_by("slug")
    return tenants if ids is None else tenants.filter(pk__in=ids)


def _chosen_tenants(request: HttpRequest) -> QuerySet[Tenant]:
    """The tenant picked in the tenant filter (``?tenant=``), else every visible tenant: the
    target and actor filters offer the choices of that tenant only."""
    visible = _visible_tenants(request)
    chosen = _int_or_none(request.GET.get(TENANT_PARAM))
    return visible.filter(pk=chosen) if chosen is not None else visible


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _bounded(
    choices: list[tuple[Any, str]], current: str | None, request: HttpRequest
) -> list[tuple[Any, str]]:
    """Hundreds of links help nobody and cost rendering time: past CHOICES_LIMIT, and until a
    tenant is picked, offer none (the search box finds a person), except the current value,
    so an active filter always shows (Django drops a filter with no choices, and its value)."""
    if len(choices) <= CHOICES_LIMIT or request.GET.get(TENANT_PARAM):
        return choices
    return [c for c in choices if str(c[0]) == current]


def tenant_filter(path: str = "tenant") -> type[admin.SimpleListFilter]:
    """A tenant filter over ``path``, offering only the tenants the user administers."""

    class TenantFilter(admin.SimpleListFilter):
        title = "tenant"
        parameter_name = TENANT_PARAM

        def lookups(self, request: HttpRequest, model_admin: Any) -> Iterable[tuple[Any, str]]:
            return list(_visible_tenants(request).values_list("pk", "slug"))

        def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
            value = _int_or_none(self.value())
            if value is None:
                return queryset
            return queryset.filter(**{f"{path}_id": value})

    return TenantFilter


def target_filter(path: str = "target") -> type[admin.SimpleListFilter]:
    """A target filter over ``path`` (tenant/environment), only the user's tenants' targets."""

    class TargetFilter(admin.SimpleListFilter):
        title = "target"
        parameter_name = "target"

        def lookups(self, request: HttpRequest, model_admin: Any) -> Iterable[tuple[Any, str]]:
            targets = Target.objects.filter(tenant__in=_chosen_tenants(request)).order_by(
                "tenant__slug", "environment"
            )
            choices = [
                (pk, f"{slug}/{env}")
                for pk, slug, env in targets.values_list("pk", "tenant__slug", "environment")
            ]
            return _bounded(choices, self.value(), request)

        def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
            value = _int_or_none(self.value())
            if value is None:
                return queryset
            return queryset.filter(**{f"{path}_id": value})

    return TargetFilter


def actor_filter(path: str, *, system: bool = False) -> type[admin.SimpleListFilter]:
    """A person filter over ``path`` (a username or a frozen actor name), offering the members
    of the user's tenants (and "system", the worker, when ``system``)."""

    class ActorFilter(admin.SimpleListFilter):
        title = "actor"
        parameter_name = "actor"

        def lookups(self, request: HttpRequest, model_admin: Any) -> Iterable[tuple[Any, str]]:
            names = sorted(
                set(
                    Membership.objects.filter(tenant__in=_chosen_tenants(request)).values_list(
                        "user__username", flat=True
                    )
                )
            )
            choices = ([("system", "system")] if system else []) + _bounded(
                [(n, n) for n in names], self.value(), request
            )
            current = self.value()
            if current and all(n != current for n, _ in choices):
                choices.append((current, current))  # a former member, reached by a link
            return choices

        def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
            if not self.value():
                return queryset
            return queryset.filter(**{path: self.value()})

    return ActorFilter


def distinct_values(table: str, column: str) -> list[str]:
    """The distinct values of an indexed column without reading the table: a recursive query
    that jumps from one value to the next through the index (one probe per value).

    ``table`` and ``column`` come from model metadata, never from a request.
    """
    t = connection.ops.quote_name(table)
    c = connection.ops.quote_name(column)
    sql = f"""
        WITH RECURSIVE v AS (
            (SELECT {c} AS value FROM {t} ORDER BY {c} LIMIT 1)
            UNION ALL
            SELECT (SELECT {c} FROM {t} WHERE {c} > v.value ORDER BY {c} LIMIT 1)
            FROM v WHERE v.value IS NOT NULL
        )
        SELECT value FROM v WHERE value IS NOT NULL
    """
    with connection.cursor() as cur:
        cur.execute(sql)
        return [row[0] for row in cur.fetchall()]


class ActionFilter(admin.SimpleListFilter):
    """The audit actions that occur, read from the action index (see ``distinct_values``)."""

    title = "action"
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Iterable[tuple[Any, str]]:
        opts = model_admin.model._meta
        return [(a, a) for a in distinct_values(opts.db_table, opts.get_field("action").column)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if not self.value():
            return queryset
        return queryset.filter(action=self.value())


# ---- links and rendering ----------------------------------------------------------------------


def change_link(obj: Model | None, text: str | None = None) -> str:
    """A link to ``obj``'s admin page, or a dash."""
    if obj is None:
        return "—"
    url = admin_url(type(obj), "change", obj.pk)
    return format_html('<a href="{}">{}</a>', url, text or str(obj))


_PK = "__pk__"


@lru_cache(maxsize=256)
def _url_template(app_label: str, model_name: str, view: str, script_prefix: str) -> str:
    # reverse() resolves the URLconf every time: on a list of 50 rows with three links each
    # that is a good part of the page's time. The URL of a change page only differs by its
    # pk, so reverse once with a placeholder (per script prefix, which reverse() depends on).
    args = [_PK] if view == "change" else []
    return reverse(f"admin:{app_label}_{model_name}_{view}", args=args)


def admin_url(model: type[Model], view: str, pk: Any = None) -> str:
    """The admin URL of ``model``'s ``view`` ("change", "changelist"), cheaply."""
    opts = model._meta
    template = _url_template(opts.app_label, opts.model_name, view, get_script_prefix())
    return template.replace(_PK, quote(str(pk))) if pk is not None else template


def change_link_by_id(model: type[Model], pk: Any, text: str) -> str:
    """A link to a row's admin page from its id alone (no query)."""
    if pk is None:
        return "—"
    return format_html('<a href="{}">{}</a>', admin_url(model, "change", pk), text)


def changelist_link(model: type[Model], params: dict[str, Any], text: str) -> str:
    """A link to ``model``'s list, filtered by ``params``."""
    url = admin_url(model, "changelist")
    return format_html('<a href="{}?{}">{}</a>', url, urlencode(params), text)


class FastChangeList(ChangeList):
    """Django's ChangeList, with the row links built from one URL template."""

    def url_for_result(self, result: Model) -> str:
        return admin_url(self.model, "change", getattr(result, self.pk_attname))


def sql_html(sql: str) -> SafeString:
    """SQL, highlighted (PostgreSQL dialect)."""
    if not sql:
        return mark_safe("—")
    if len(sql) > HIGHLIGHT_LIMIT:
        return format_html('<pre class="sb-code">{}</pre>', sql)
    # Pygments escapes the text it highlights.
    return mark_safe(highlight(sql, PostgresLexer(), _FORMATTER))


def json_html(value: Any) -> SafeString:
    """A JSON value, indented with sorted keys, highlighted."""
    if value is None:
        return mark_safe("—")
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, cls=DjangoJSONEncoder)
    if len(text) > HIGHLIGHT_LIMIT:
        return format_html('<pre class="sb-code">{}</pre>', text)
    return mark_safe(highlight(text, JsonLexer(), _FORMATTER))


def collapsed(summary: str, body: SafeString) -> SafeString:
    """``body`` inside a closed <details>: for big values (snapshots, envelopes)."""
    return format_html("<details><summary>{}</summary>{}</details>", summary, body)


# ---- search helpers ---------------------------------------------------------------------------


def as_uuid(term: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(term.strip())
    except ValueError:
        return None


def as_id_range(term: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    """The ids that start with ``term``, a short id as the pages print it (``717ab81c``): the
    first and last UUID of that prefix, so the search is a range on the id's index, not a
    scan of every id as text. None unless the term is 4 to 31 hex digits (hyphens allowed)."""
    digits = term.strip().replace("-", "").lower()
    if not 4 <= len(digits) < 32 or any(c not in "0123456789abcdef" for c in digits):
        return None
    return uuid.UUID(digits.ljust(32, "0")), uuid.UUID(digits.ljust(32, "f"))


def as_version(term: str) -> str:
    """A version as the pages print it (``v002``) without its ``v``."""
    term = term.strip()
    return term[1:] if term[:1] in ("v", "V") and term[1:2].isalnum() else term


def as_int(term: str, prefix: str = "") -> int | None:
    term = term.strip().removeprefix(prefix).lstrip("#")
    return int(term) if term.isdigit() and len(term) < 19 else None


def short(value: str, n: int = 12) -> str:
    return value[:n] + "…" if len(value) > n else value


def json_text(value: Any) -> str:
    """Compact JSON for a CSV cell."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
