"""migra in a virtualenv of its own (bench/.venv-migra), made on first use.

migra pins old companions (schemainspect, sqlbag) that must not leak into the app's venv, so
it gets its own, built from bench/requirements-migra.txt and rebuilt when that file changes.
When the running interpreter has migra already (the project's dev extras pin the same
versions), that one runs instead and no venv is built.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench.proc import Run, measure

BENCH = Path(__file__).resolve().parent
VENV = BENCH / ".venv-migra"
REQUIREMENTS = BENCH / "requirements-migra.txt"
MIGRA = VENV / "bin" / "migra"
ROOT = BENCH.parent

# migra's pins are checked on 3.12 (the app's Python); 3.11 is the fallback.
_INTERPRETERS = ("python3.12", "python3.11", "python3")


# migra ships no ``__main__``: its console script calls this.
_IN_PROCESS = "import sys; from migra.command import do_command; sys.exit(do_command())"


def command() -> list[str]:
    """The command that runs migra: this interpreter's when it has migra, else the venv's."""
    if importlib.util.find_spec("migra") is not None:
        return [sys.executable, "-W", "ignore", "-c", _IN_PROCESS]
    return [str(ensure())]


def ensure() -> Path:
    """Path of a working ``migra``, building its venv first when missing or out of date."""
    stamp = VENV / f".requirements-{_requirements_hash()}"
    if not stamp.exists() or not MIGRA.exists():
        _build(stamp)
    return MIGRA


def _requirements_hash() -> str:
    return hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:12]


def _clean_env() -> dict[str, str]:
    # The app's PYTHONPATH (or its egg-info in the current directory) must not leak into
    # migra's interpreter: pip would then "see" the app's requirements, and imports could
    # pick up the app's packages instead of migra's pins.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONWARNINGS"] = "ignore"  # schemainspect's pkg_resources deprecation notice
    return env


def _build(stamp: Path) -> None:
    python = _interpreter()
    print(f"building {VENV.relative_to(ROOT)} with {python} (first run only)", flush=True)
    shutil.rmtree(VENV, ignore_errors=True)
    subprocess.run([python, "-m", "venv", str(VENV)], check=True, env=_clean_env())
    pip = [str(VENV / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    done = subprocess.run(
        [*pip, "install", "-r", str(REQUIREMENTS)],
        cwd=VENV,  # `python -m` puts the current directory on sys.path
        env=_clean_env(),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"pip install -r {REQUIREMENTS.name} failed:\n{done.stderr[-3000:]}")
    stamp.touch()


def _interpreter() -> str:
    """The app's own Python, else the first Python >= 3.11 that really runs (pyenv has shims
    for versions that are not active, which exist but fail)."""
    own = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    for cand in [str(own), *_INTERPRETERS]:
        path = shutil.which(cand) or cand
        check = "import sys, venv; sys.exit(sys.version_info < (3, 11))"
        if subprocess.run([path, "-c", check], capture_output=True).returncode == 0:
            return path
    raise RuntimeError("no Python >= 3.11 found to build bench/.venv-migra")


def sqlalchemy_url(url: str) -> str:
    """``url`` for SQLAlchemy's psycopg 3 dialect (unix-socket ``?host=`` URLs work as is)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="postgresql+psycopg"))


def diff(from_url: str, to_url: str, schema: str, *, privileges: bool = False) -> Run:
    """Run ``migra --unsafe`` from ``from_url`` to ``to_url``, limited to ``schema``; with
    ``privileges``, grants are compared too (``--with-privileges``).

    ``--unsafe`` because v2 drops columns: without it migra refuses to print the script.
    """
    cmd: list[str | Path] = [
        *command(),
        "--unsafe",
        *(["--with-privileges"] if privileges else []),
        "--schema",
        schema,
        sqlalchemy_url(from_url),
        sqlalchemy_url(to_url),
    ]
    # migra exits 2 when it found differences, 0 when there were none.
    return measure(cmd, env=_clean_env()).check("migra", ok_codes=(0, 2))
