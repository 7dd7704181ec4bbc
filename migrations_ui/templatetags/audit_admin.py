"""Template tags of the audit admin (templates/admin/migrations_ui/).

``fast_date_hierarchy`` replaces Django's ``date_hierarchy`` tag. Django's lists the years,
months or days that have rows with ``SELECT DISTINCT date_trunc(...)`` over every matching
row: a full scan of a million audit events on every page. This one reads the first and last
date (two index probes: MIN and MAX over an indexed column) and offers every period between
them; a period with no rows simply shows an empty list.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import template
from django.contrib.admin.utils import get_fields_from_path
from django.db import models
from django.utils import formats, timezone
from django.utils.text import capfirst

register = template.Library()


def _local(value: Any) -> Any:
    return timezone.localtime(value) if isinstance(value, datetime.datetime) else value


def _range(cl: Any, field_name: str) -> tuple[Any, Any]:
    bounds = cl.queryset.aggregate(first=models.Min(field_name), last=models.Max(field_name))
    return _local(bounds["first"]), _local(bounds["last"])


def _param(cl: Any, name: str) -> int | None:
    value = cl.params.get(name)
    if isinstance(value, list):  # Django keeps a list per parameter in some versions
        value = value[-1] if value else None
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


@register.inclusion_tag("admin/date_hierarchy.html")
def fast_date_hierarchy(cl: Any) -> dict[str, Any]:
    """The date drill-down of a changelist, from MIN and MAX only (see the module docstring)."""
    if not cl.date_hierarchy:
        return {"show": False}
    field_name = cl.date_hierarchy
    field = get_fields_from_path(cl.model, field_name)[-1]
    year_field = f"{field_name}__year"
    month_field = f"{field_name}__month"
    day_field = f"{field_name}__day"

    def link(filters: dict[str, Any]) -> str:
        return str(cl.get_query_string(filters, [f"{field_name}__"]))

    year = _param(cl, year_field)
    month = _param(cl, month_field)
    day = _param(cl, day_field)
    common = {"show": True, "field_name": field.verbose_name}

    if year and month and day:
        chosen = datetime.date(year, month, day)
        return {
            **common,
            "back": {
                "link": link({year_field: year, month_field: month}),
                "title": capfirst(formats.date_format(chosen, "YEAR_MONTH_FORMAT")),
            },
            "choices": [{"title": capfirst(formats.date_format(chosen, "MONTH_DAY_FORMAT"))}],
        }

    first, last = _range(cl, field_name)
    if first is None or last is None:
        return {"show": False}
    if not year and first.year == last.year:
        year = first.year  # one year of data: start at its months, as Django does
        if first.month == last.month:
            month = first.month

    if year and month:
        start = first.day if (first.year, first.month) == (year, month) else 1
        stop = last.day if (last.year, last.month) == (year, month) else start
        days = [datetime.date(year, month, d) for d in range(start, stop + 1)]
        return {
            **common,
            "back": {"link": link({year_field: year}), "title": str(year)},
            "choices": [
                {
                    "link": link({year_field: year, month_field: month, day_field: d.day}),
                    "title": capfirst(formats.date_format(d, "MONTH_DAY_FORMAT")),
                }
                for d in days
            ],
        }
    if year:
        start = first.month if first.year == year else 1
        stop = last.month if last.year == year else start
        months = [datetime.date(year, m, 1) for m in range(start, stop + 1)]
        return {
            **common,
            "back": {"link": link({}), "title": "All dates"},
            "choices": [
                {
                    "link": link({year_field: year, month_field: m.month}),
                    "title": capfirst(formats.date_format(m, "YEAR_MONTH_FORMAT")),
                }
                for m in months
            ],
        }
    return {
        **common,
        "choices": [
            {"link": link({year_field: y}), "title": str(y)}
            for y in range(first.year, last.year + 1)
        ],
    }


@register.simple_tag
def capped_count(cl: Any) -> str:
    """The number of matches as the page states it: "more than 10,000" past the count limit."""
    paginator = getattr(cl, "paginator", None)
    if paginator is not None and getattr(paginator, "capped", False):
        return f"more than {cl.result_count:,}"
    return f"{cl.result_count:,}"
