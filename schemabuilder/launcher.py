"""`make run`: one command that owns the whole local stack.

It starts the embedded PostgreSQL (unless ``DATABASE_URL`` is set), creates the app and demo
target databases, migrates, seeds the demo tenant and people, starts gunicorn and the worker,
waits until ``/healthz`` says everything is up, prints the URL, and on Ctrl-C or SIGTERM stops
gunicorn, the worker and PostgreSQL, in that order. Leftovers of a killed earlier run (a server
still running, stale pids) are found through ``.data/run.json`` and cleaned up first.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from schemabuilder import embedded, target_roles
from schemabuilder.embedded import (
    BASE_DIR,
    DEMO_TARGET_DB,
    DEMO_TARGET_ROLE,
    DEMO_TARGET_SCHEMA,
    data_dir,
    embedded_url,
)

APP_DB = "schemabuilder"
PR_SET_PDEATHSIG = 1


def say(message: str) -> None:
    print(f"[run] {message}", flush=True)


def _die_with_parent() -> None:
    """Ask the kernel to SIGTERM this process when its parent dies (Linux), so a killed
    launcher never leaves gunicorn or the worker behind."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def recover_leftovers(state_file: Path) -> None:
    """Stop the processes a killed earlier run left behind (only if they are still ours)."""
    try:
        state = json.loads(state_file.read_text())
    except (OSError, ValueError):
        return
    for role in ("gunicorn", "worker"):
        pid = state.get(role)
        marker = "gunicorn" if role == "gunicorn" else "worker"
        if isinstance(pid, int) and _alive(pid) and marker in _cmdline(pid):
            say(f"stopping a {role} left over from an earlier run (pid {pid})")
            os.kill(pid, signal.SIGTERM)
            for _ in range(50):
                if not _alive(pid):
                    break
                time.sleep(0.1)
            else:
                os.kill(pid, signal.SIGKILL)
    state_file.unlink(missing_ok=True)


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), *args], env=env, check=True)


def spawn(env: dict[str, str], args: list[str], log: Path) -> subprocess.Popen[bytes]:
    # Each child in its own session: Ctrl-C reaches only the launcher, which stops the
    # children in order. PDEATHSIG covers the launcher itself being killed.
    return subprocess.Popen(
        args,
        env=env,
        cwd=BASE_DIR,
        start_new_session=True,
        preexec_fn=_die_with_parent,
        stdout=None if os.environ.get("SB_RUN_VERBOSE") else log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def wait_ready(
    url: str,
    children: dict[str, subprocess.Popen[bytes]],
    timeout: float,
    should_stop: Callable[[], bool],
) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    last: dict[str, object] = {}
    while time.monotonic() < deadline:
        if should_stop():
            raise RuntimeError("interrupted while starting")
        for name, proc in children.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with code {proc.returncode} while starting")
        try:
            with urllib.request.urlopen(url + "healthz", timeout=2) as resp:
                last = json.loads(resp.read())
                if last.get("status") == "ok":
                    return last
        except (OSError, ValueError) as exc:
            if hasattr(exc, "read"):
                with contextlib.suppress(ValueError):
                    last = json.loads(exc.read())  # 503 carries the reason
        time.sleep(0.2)
    raise RuntimeError(f"not ready after {timeout:.0f}s: {last}")


def stop_children(children: dict[str, subprocess.Popen[bytes]]) -> None:
    for proc in children.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 20
    for name, proc in children.items():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{name} did not stop in time; killing it")
            proc.kill()
            proc.wait()


def main() -> int:
    started = time.monotonic()
    _die_with_parent()  # if `make` is killed, we still clean up
    data = data_dir()
    data.mkdir(parents=True, exist_ok=True)
    logs = data / "logs"
    logs.mkdir(exist_ok=True)
    state_file = data / "run.json"
    recover_leftovers(state_file)

    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    env = dict(os.environ)
    env["SB_DATA_DIR"] = str(data)
    pgdata: Path | None = None
    if env.get("DATABASE_URL"):
        say("DATABASE_URL is set: using it, no embedded PostgreSQL")
    else:
        pgdata = data / "postgres"
        say(f"starting PostgreSQL in {pgdata}")
        server = embedded.start(pgdata)
        for name in (APP_DB, DEMO_TARGET_DB):
            if embedded.ensure_database(server, name):
                say(f"created database {name}")
        env["DATABASE_URL"] = embedded_url(APP_DB, pgdata)
        # The demo target's own role, never the superuser (also for a demo database made
        # by an earlier run as the superuser: its objects are handed to the role).
        target_roles.provision(
            embedded_url(DEMO_TARGET_DB, pgdata),
            DEMO_TARGET_DB,
            DEMO_TARGET_ROLE,
            DEMO_TARGET_SCHEMA,
        )
        env.setdefault(
            "TARGET_DEV_URL", embedded_url(DEMO_TARGET_DB, pgdata, user=DEMO_TARGET_ROLE)
        )

    children: dict[str, subprocess.Popen[bytes]] = {}
    code = 0
    try:
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "seed_demo")
        host = env.get("HOST", "127.0.0.1")
        port = env.get("PORT", "8000")
        web_workers = env.get("WEB_CONCURRENCY", "2")
        children["gunicorn"] = spawn(
            env,
            [
                sys.executable,
                "-m",
                "gunicorn",
                "schemabuilder.wsgi",
                "--bind",
                f"{host}:{port}",
                "--workers",
                web_workers,
                "--access-logfile",
                "-",
                "--graceful-timeout",
                "5",
            ],
            logs / "web.log",
        )
        children["worker"] = spawn(
            env, [sys.executable, str(BASE_DIR / "manage.py"), "worker"], logs / "worker.log"
        )
        state_file.write_text(
            json.dumps({"launcher": os.getpid(), **{k: p.pid for k, p in children.items()}})
        )
        url = f"http://{host}:{port}/"
        wait_ready(url, children, timeout=90, should_stop=lambda: stopping)
        say(f"ready in {time.monotonic() - started:.1f}s: {url}  (logs in {logs}; Ctrl-C stops)")
        while not stopping:
            for name, proc in children.items():
                if proc.poll() is not None:
                    say(f"{name} exited with code {proc.returncode}; stopping everything")
                    stopping = True
                    code = 1
            time.sleep(0.3)
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        say(f"failed: {exc}")
        code = 1
    finally:
        say("stopping")
        stop_children(children)
        if pgdata is not None:
            embedded.stop(pgdata)
        state_file.unlink(missing_ok=True)
        say("stopped")
    return code


if __name__ == "__main__":
    sys.exit(main())
