"""The engine never imports Django: checked in the source and in a fresh interpreter."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import schemabuilder.engine

ENGINE = Path(schemabuilder.engine.__file__).parent


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__":
            names.update(
                arg.value
                for arg in node.args
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            )
    return names


def test_no_engine_module_imports_django() -> None:
    files = sorted(ENGINE.rglob("*.py"))
    assert len(files) >= 8
    offenders = {
        str(path.relative_to(ENGINE)): sorted(
            m for m in _imported_modules(path) if m == "django" or m.startswith("django.")
        )
        for path in files
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_importing_the_engine_loads_no_django_module() -> None:
    code = (
        "import sys, schemabuilder.engine as e\n"
        "for name in e.__all__: getattr(e, name)\n"
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ENGINE.parent.parent,
    )
    assert result.stdout.strip() == ""


def test_the_public_api_is_re_exported() -> None:
    expected = {
        "BlueprintInvalid",
        "Issue",
        "NormalizedBlueprint",
        "ValidatedEnvelope",
        "canonical_json",
        "idempotency_key",
        "qualified",
        "quote_ident",
        "render_ddl",
        "schema_hash",
        "validate_envelope",
        "validate_payload",
    }
    assert expected <= set(schemabuilder.engine.__all__)
    for name in schemabuilder.engine.__all__:
        assert hasattr(schemabuilder.engine, name), name
