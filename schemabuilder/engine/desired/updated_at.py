"""The function behind the ``updated_at`` convenience: ``<schema>.set_updated_at()``.

A plpgsql trigger function with an empty search_path (it names nothing but ``now()``, which
pg_catalog always resolves), whose whole body sets ``NEW.updated_at`` and returns the row.
The plan creates it when the target lacks it, and leaves it alone when the target has it
with exactly that body (white space aside); with any other body the convenience would run
code nobody reviewed, so the blueprint must write the trigger out in full instead.
"""

from __future__ import annotations

import re

from schemabuilder.engine.catalog.triggers import LiveFunction
from schemabuilder.engine.contract.idents import qualified, quote_literal
from schemabuilder.engine.contract.triggers import UPDATED_AT_BODY, UPDATED_AT_FUNCTION

# What an updated_at trigger function's body says, in the forms people write it.
_UPDATED_AT_PATTERN = re.compile(
    r"begin\s+new\.updated_at\s*(?::=|=)\s*(?:now\(\)|current_timestamp)\s*;\s*"
    r"return\s+new\s*;\s*end\s*;?",
    re.IGNORECASE,
)


def _tidy(body: str) -> str:
    # PL/pgSQL keywords and unquoted names fold to lower case: "BEGIN NEW.x" is "begin new.x".
    return " ".join(body.split()).lower()


def create_function_sql(schema: str) -> str:
    """``CREATE FUNCTION <schema>.set_updated_at()`` with the convenience's body."""
    return (
        f"CREATE FUNCTION {qualified(schema, UPDATED_AT_FUNCTION)}() RETURNS trigger "
        f"LANGUAGE plpgsql SET search_path = '' AS {quote_literal(UPDATED_AT_BODY)}"
    )


def is_convenience(function: LiveFunction) -> bool:
    """Whether ``function`` is exactly the convenience's: its name, a plpgsql trigger
    function, the body (white space aside)."""
    return (
        function.name == UPDATED_AT_FUNCTION
        and function.returns_trigger
        and function.language == "plpgsql"
        and _tidy(function.body) == _tidy(UPDATED_AT_BODY)
    )


def sets_updated_at(function: LiveFunction) -> bool:
    """Whether ``function``'s body only sets NEW.updated_at to the time and returns NEW
    (``:=`` or ``=``, ``now()`` or ``current_timestamp``), whatever its name."""
    return function.returns_trigger and bool(_UPDATED_AT_PATTERN.fullmatch(_tidy(function.body)))
