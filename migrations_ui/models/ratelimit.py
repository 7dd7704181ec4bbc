"""Per-token request counters for the API's rate limit, kept in PostgreSQL (no extra service)."""

from __future__ import annotations

from datetime import datetime

from django.db import connection, models


class RateWindow(models.Model):
    """How many requests one key (an API token) made in one fixed time window."""

    key = models.CharField(max_length=64)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window_start"], name="rate_window_key"),
        ]

    def __str__(self) -> str:
        return f"{self.key} @ {self.window_start:%H:%M}: {self.count}"

    @classmethod
    def hit(cls, key: str, window_start: datetime) -> int:
        """Count one request for ``key`` in the window; returns the window's count so far.

        One upsert, so concurrent requests on any number of web processes never lose a count.
        """
        table = cls._meta.db_table
        with connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO {table} (key, window_start, count) VALUES (%s, %s, 1)"
                f" ON CONFLICT (key, window_start) DO UPDATE SET count = {table}.count + 1"
                " RETURNING count",
                [key, window_start],
            )
            count = int(cur.fetchone()[0])
        if count == 1:
            # A new window: the key's older windows are of no use any more.
            cls.objects.filter(key=key, window_start__lt=window_start).delete()
        return count
