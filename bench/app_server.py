"""The app as `make run` serves it, started from nothing for a benchmark that talks HTTP.

In a temporary directory: the embedded PostgreSQL (fsync on, as `make run` has it), the app
database and a target database (alias dev), migrations, the demo tenant and people, a token for
alice, and gunicorn on 127.0.0.1. No background worker runs. Everything is stopped and removed
on the way out.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ServedApp:
    base: str  # http://127.0.0.1:<port>
    token: str  # alice's API token
    target_url: str  # the target database of alias dev


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.stdout


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/api/v1/openapi.json", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer in time")


@contextmanager
def served_app(*, workers: int, threads: int, prefix: str = "sb-bench-") -> Iterator[ServedApp]:
    """Start the app (``workers`` gunicorn processes of ``threads`` threads); stop it after."""
    from schemabuilder import embedded
    from schemabuilder.embedded import embedded_url

    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    tmp.chmod(0o755)  # the server runs as its own user when we are root
    pgdata = tmp / "pg"
    gunicorn: subprocess.Popen[bytes] | None = None
    try:
        server = embedded.start(pgdata)
        for name in ("schemabuilder", "bench_target"):
            embedded.ensure_database(server, name)
        target = embedded_url("bench_target", pgdata)
        env = {
            **os.environ,
            "SB_DATA_DIR": str(tmp / "data"),
            "DATABASE_URL": embedded_url("schemabuilder", pgdata),
            "TARGET_DEV_URL": target,
            "DEMO_PASSWORD": "bench-password-not-secret",
            "API_RATE_LIMIT_PER_MINUTE": "0",
            "LOG_LEVEL": "WARNING",
        }
        _manage(env, "migrate", "--noinput", "-v", "0")
        _manage(env, "seed_demo")
        token = _manage(env, "create_token", "alice", "--name", "bench").strip()
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "schemabuilder.wsgi", "--bind",
             f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads),
             "--timeout", "120"],
            cwd=ROOT, env=env, stdout=(tmp / "gunicorn.log").open("wb"),
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        _wait_ready(base, gunicorn)
        yield ServedApp(base=base, token=token, target_url=target)
    finally:
        if gunicorn is not None and gunicorn.poll() is None:
            gunicorn.send_signal(signal.SIGTERM)
            try:
                gunicorn.wait(timeout=20)
            except subprocess.TimeoutExpired:
                gunicorn.kill()
        embedded.stop(pgdata)
        shutil.rmtree(tmp, ignore_errors=True)
