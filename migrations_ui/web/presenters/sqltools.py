"""The SQL as a reviewer sees it: highlighted server-side (Pygments), and squawk's opinion.

Both are pure functions of the SQL, so both are cached by the plan's checksum: a plan's SQL
never changes under the same checksum, and the proposal page is read far more often than
plans are made.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from django.core.cache import cache
from django.utils.safestring import SafeString, mark_safe
from pygments import highlight as pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PostgresLexer

CACHE_SECONDS = 24 * 3600
# Tokens that pygments.css gives no style (whitespace, names, punctuation) need no span.
_PLAIN_SPAN = re.compile(r'<span class="(?:w|n|p)">([^<]*)</span>')
SQUAWK_TIMEOUT_S = 15
# The worker sets both in the apply transaction (SET LOCAL, from the target's settings), which
# squawk cannot see in the script: these two rules would flag every statement, always.
SQUAWK_EXCLUDED = ("require-lock-timeout", "require-statement-timeout")


def highlight(sql: str, key: str) -> SafeString:
    """The SQL as HTML with classes (static/pygments.css styles them; no inline styles, the
    CSP forbids them), line numbers included so squawk's findings can point at lines."""
    cache_key = f"sql-html:v2:{key}"
    html = cache.get(cache_key)
    if html is None:
        formatter = HtmlFormatter(cssclass="highlight", linenos="inline", wrapcode=True)
        html = pygments_highlight(sql, PostgresLexer(), formatter)
        # Half the HTML of a large plan, whose page weight is mostly this block.
        html = _PLAIN_SPAN.sub(r"\1", html)
        cache.set(cache_key, html, CACHE_SECONDS)
    return mark_safe(html)  # Pygments escapes the SQL itself


@dataclass(frozen=True)
class Finding:
    line: int  # 1-based, in the plan's SQL
    level: str
    rule: str
    message: str
    help: str
    statement: int | None
    excerpt: str


@dataclass(frozen=True)
class SquawkReport:
    available: bool
    findings: list[Finding] = field(default_factory=list)
    error: str = ""
    version: str = ""
    excluded: tuple[str, ...] = SQUAWK_EXCLUDED

    @property
    def ok(self) -> bool:
        return self.available and not self.error and not self.findings


def squawk_binary() -> Path | None:
    """squawk-cli installs its binary next to the interpreter (the virtualenv's bin/)."""
    beside = Path(sys.executable).parent / "squawk"
    if beside.exists():
        return beside
    found = shutil.which("squawk")
    return Path(found) if found else None


def statement_lines(statements: list[str]) -> list[int]:
    """The first line (1-based) of each statement in the plan's SQL (``sql;\\n`` joined)."""
    starts, line = [], 1
    for sql in statements:
        starts.append(line)
        line += sql.count("\n") + 1
    return starts


def squawk_report(
    sql: str, key: str, *, statements: list[str], pg_major: int | None = None
) -> SquawkReport:
    """Run squawk on the SQL via stdin, with a timeout; cached by ``key`` (the checksum).

    A missing binary, a timeout or output that is not JSON is reported, never raised: the
    second opinion must not take the proposal page down with it.
    """
    cache_key = f"squawk:v1:{key}:{pg_major}"
    cached = cache.get(cache_key)
    if isinstance(cached, SquawkReport):
        return cached
    binary = squawk_binary()
    if binary is None:
        return SquawkReport(available=False, error="squawk is not installed on this server.")
    if not sql.strip():
        return SquawkReport(available=True)
    args = [
        str(binary),
        "--reporter",
        "json",
        "--assume-in-transaction",
        "--stdin-filepath",
        "migration.sql",
        f"--exclude={','.join(SQUAWK_EXCLUDED)}",
    ]
    if pg_major:
        args.append(f"--pg-version={pg_major}.0")
    try:
        done = subprocess.run(
            args, input=sql, capture_output=True, text=True, timeout=SQUAWK_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        return SquawkReport(available=True, error=f"squawk took over {SQUAWK_TIMEOUT_S} s.")
    except OSError as exc:
        return SquawkReport(available=False, error=f"squawk could not run: {exc}")
    try:
        raw = json.loads(done.stdout or "[]")
    except json.JSONDecodeError:
        detail = (done.stderr or done.stdout).strip().splitlines()
        return SquawkReport(available=True, error=detail[0] if detail else "no output")
    lines = sql.splitlines()
    starts = statement_lines(statements)
    findings = []
    for item in raw:
        line = int(item.get("line", 0)) + 1  # squawk counts from 0
        # Numbered from 1, as the risk report, the statement table and apply errors do.
        stmt = max((n for n, start in enumerate(starts, start=1) if start <= line), default=None)
        findings.append(
            Finding(
                line=line,
                level=str(item.get("level", "")).lower(),
                rule=str(item.get("rule_name", "")),
                message=str(item.get("message", "")),
                help=str(item.get("help") or ""),
                statement=stmt,
                excerpt=lines[line - 1].strip() if 0 < line <= len(lines) else "",
            )
        )
    report = SquawkReport(available=True, findings=findings, version=_version(binary))
    cache.set(cache_key, report, CACHE_SECONDS)
    return report


def _version(binary: Path) -> str:
    try:
        out = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip()
