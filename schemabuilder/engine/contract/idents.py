"""Identifiers: snake_case normalization, quoting, and names that fit PostgreSQL's 63 bytes."""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Callable
from functools import lru_cache

from pglast import keywords

# Every table has these hidden columns (PostgreSQL 12+; oid is an ordinary name since
# WITH OIDS went away): a column of the same name is refused by CREATE TABLE.
SYSTEM_COLUMNS = frozenset({"tableoid", "xmin", "cmin", "xmax", "cmax", "ctid"})
MAX_IDENTIFIER_BYTES = 63  # NAMEDATALEN - 1: PostgreSQL silently truncates longer names

# PostgreSQL's quote_ident() leaves only unreserved keywords bare; every other keyword
# category is quoted, because each is rejected as a bare name in some grammar position.
_NEEDS_QUOTES = frozenset(
    keywords.RESERVED_KEYWORDS | keywords.COL_NAME_KEYWORDS | keywords.TYPE_FUNC_NAME_KEYWORDS
)
_BARE = re.compile(r"[a-z_][a-z0-9_$]*")
_INPUT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CAMEL_1 = re.compile(r"([A-Z]+)([A-Z][a-z])")
_CAMEL_2 = re.compile(r"([a-z0-9])([A-Z])")
_HASH_SUFFIX_LEN = 8


@lru_cache(maxsize=65536)
def snake_case(name: str) -> str:
    """``firstName`` -> ``first_name``, ``HTTPServer`` -> ``http_server``, ``ID`` -> ``id``."""
    return _CAMEL_2.sub(r"\1_\2", _CAMEL_1.sub(r"\1_\2", name)).lower()


def is_plain_name(name: str) -> bool:
    """Whether ``name`` is a plain identifier (ASCII letters, digits, underscores)."""
    return _INPUT_NAME.fullmatch(name) is not None


def policy_name(name: str) -> str:
    """A policy's name as PostgreSQL will know it: a plain identifier is normalized to
    snake_case like every other name; any other (``Users can view their own profile.``, as
    Supabase's templates write them) is kept exactly as written, and quoted in SQL."""
    return snake_case(name) if is_plain_name(name) else name


def written_name_problem(name: str) -> str | None:
    """Why ``name``, kept as written, cannot be a PostgreSQL name, or None when it can."""
    size = len(name.encode())
    if not name:
        return "must not be empty: give a name such as 'Users can view their own profile.'"
    if size > MAX_IDENTIFIER_BYTES:
        return (
            f"'{name[:40]}...' is {size} bytes long; PostgreSQL names are at most "
            f"{MAX_IDENTIFIER_BYTES} bytes (it would cut the rest silently): shorten it"
        )
    for char in name:
        if ord(char) < 32 or ord(char) == 127:
            return f"contains the control character U+{ord(char):04X}: remove it"
    return None


@lru_cache(maxsize=65536)
def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a blueprint name, or None when it can.

    Names are restricted to ASCII letters, digits and underscores so that snake_case
    normalization is well defined and no name ever needs a quote character inside it.
    """
    if not name:
        return "must not be empty: give a name such as 'first_name'"
    if not _INPUT_NAME.fullmatch(name):
        shown = name if len(name) <= 80 else name[:77] + "..."
        return (
            f"{shown!r} is not a valid name: use ASCII letters, digits and underscores, "
            "starting with a letter or an underscore (for example 'first_name')"
        )
    normalized = snake_case(name)
    size = len(normalized.encode())
    if size > MAX_IDENTIFIER_BYTES:
        return (
            f"'{normalized[:40]}...' is {size} bytes long once normalized; PostgreSQL names "
            f"are at most {MAX_IDENTIFIER_BYTES} bytes: shorten it"
        )
    return None


def quote_ident(name: str) -> str:
    """Quote ``name`` exactly when PostgreSQL would need it (like its own quote_ident())."""
    if _BARE.fullmatch(name) and name not in _NEEDS_QUOTES:
        return name
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str, name: str) -> str:
    """``schema.name`` with each part quoted as needed."""
    return f"{quote_ident(schema)}.{quote_ident(name)}"


def quote_literal(text: str) -> str:
    """A SQL string literal for ``text`` that reads the same whatever standard_conforming_strings
    is set to (like PostgreSQL's quote_literal())."""
    quoted = text.replace("'", "''")
    if "\\" in quoted:
        return "E'" + quoted.replace("\\", "\\\\") + "'"
    return "'" + quoted + "'"


def _clip(text: str, limit: int) -> str:
    """The longest prefix of ``text`` of at most ``limit`` UTF-8 bytes (whole characters)."""
    return text.encode()[:limit].decode(errors="ignore")


def object_name(name1: str, name2: str | None, label: str | None) -> str:
    """The name PostgreSQL itself makes for a constraint or index (``makeObjectName``):
    ``name1_name2_label``, shortening the longer of ``name1`` and ``name2`` a byte at a time
    until it fits in 63 bytes. Schemas written by hand carry these names, so a blueprint
    that describes one must arrive at the same."""
    overhead = (1 if name2 is not None else 0) + (len(label.encode()) + 1 if label else 0)
    available = MAX_IDENTIFIER_BYTES - overhead
    len1, len2 = len(name1.encode()), len(name2.encode()) if name2 is not None else 0
    while len1 + len2 > available:
        if len1 > len2:
            len1 -= 1
        else:
            len2 -= 1
    name = _clip(name1, len1)
    if name2 is not None:
        name += "_" + _clip(name2, len2)
    if label:
        name += "_" + label
    return name


def fit_identifier(name: str) -> str:
    """``name`` if it fits in 63 bytes, else a truncation plus a short hash of the whole name.

    PostgreSQL would truncate silently, which can make two long generated names collide;
    the hash keeps them distinct and the result deterministic.
    """
    raw = name.encode()
    if len(raw) <= MAX_IDENTIFIER_BYTES:
        return name
    digest = hashlib.sha256(raw).hexdigest()[:_HASH_SUFFIX_LEN]
    keep = MAX_IDENTIFIER_BYTES - _HASH_SUFFIX_LEN - 1
    head = raw[:keep].decode(errors="ignore").rstrip("_")
    return f"{head}_{digest}"


def did_you_mean(value: str, choices: tuple[str, ...]) -> str:
    """`` (did you mean 'X'?)`` for the choice closest to ``value``, any case; else ``""``."""
    upper = [c.upper() for c in choices]
    close = difflib.get_close_matches(value.upper(), upper, n=1)
    return f" (did you mean {choices[upper.index(close[0])]!r}?)" if close else ""


def one_of(
    choices: tuple[str, ...],
    *,
    what: str,
    spell: Callable[[str], str] = lambda v: v.strip().lower(),
    hint: str | None = None,
    shown_chars: int | None = None,
) -> Callable[[object], object]:
    """A validator for a closed vocabulary: the value as ``spell`` writes it when it is one of
    ``choices``, else ``"'x' is not <what>: use one of ..."`` with a did-you-mean. A value
    that is not a string passes through for the type check to report."""

    def check(value: object) -> object:
        if not isinstance(value, str):
            return value
        spelled = spell(value)
        if spelled not in choices:
            shown = value if shown_chars is None else value[:shown_chars]
            raise ValueError(
                f"{shown!r} is not {what}: {hint or 'use one of ' + ', '.join(choices)}"
                + did_you_mean(spelled, choices)
            )
        return spelled

    return check
