"""The workflow people use today, timed: build a shadow database from the v2 script with
``psql -1 -f v2.sql``, then let migra diff the live database against it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from bench import migra_venv, pg


@dataclass(frozen=True)
class BaselineSample:
    """One shadow + migra round: seconds of each part, migra's peak RSS and its script."""

    create_db_seconds: float
    psql_seconds: float
    migra_seconds: float
    migra_maxrss_kib: int
    migra_sql: str

    @property
    def shadow_seconds(self) -> float:
        return self.create_db_seconds + self.psql_seconds

    @property
    def total_seconds(self) -> float:
        return self.shadow_seconds + self.migra_seconds

    @property
    def migra_statements(self) -> int:
        # migra ends every statement with ";" at the end of a line.
        return sum(1 for line in self.migra_sql.splitlines() if line.rstrip().endswith(";"))


def run_once(server_url: str, live_url: str, v2_script: Path, schema: str) -> BaselineSample:
    """One full round from nothing: a fresh shadow database, built, diffed, dropped."""
    shadow = f"bench_shadow_{schema}"
    pg.drop_database(server_url, shadow)  # a leftover of a killed run; not part of the time
    start = time.perf_counter()
    shadow_url = pg.create_database(server_url, shadow)
    create_seconds = time.perf_counter() - start
    try:
        built = pg.psql_file(shadow_url, v2_script)
        diffed = migra_venv.diff(live_url, shadow_url, schema)
    finally:
        pg.drop_database(server_url, shadow)
    return BaselineSample(
        create_db_seconds=create_seconds,
        psql_seconds=built.seconds,
        migra_seconds=diffed.seconds,
        migra_maxrss_kib=diffed.maxrss_kib,
        migra_sql=diffed.stdout,
    )
