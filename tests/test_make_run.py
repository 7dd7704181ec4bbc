"""`make run` as a user runs it: start, wait for health, log in over HTTP, stop, nothing left.

Uses a temporary data directory and port, so it never touches the developer's .data/.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline and int(proc.name) != os.getpid():
            found.append(f"{proc.name}: {cmdline}")
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purposes
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


class Run:
    def __init__(self, data: Path) -> None:
        self.data = data
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        env = {
            k: v
            for k, v in os.environ.items()
            if k != "DATABASE_URL" and not k.startswith("TARGET_")
        }
        env.update(SB_DATA_DIR=str(data), PORT=str(self.port), DEMO_PASSWORD="run-test-pw")
        data.parent.mkdir(parents=True, exist_ok=True)
        self.log = (data.parent / f"make-run-{self.port}.log").open("wb")
        self.proc = subprocess.Popen(
            ["make", "-s", "run"],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_healthy(self, timeout: float = 180) -> dict[str, object]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.output()
            try:
                with urllib.request.urlopen(self.url + "healthz", timeout=2) as resp:
                    body = json.loads(resp.read())
                    if body["status"] == "ok":
                        return body
            except OSError:
                pass
            time.sleep(0.25)
        raise AssertionError("never became healthy:\n" + self.output())

    def state(self) -> dict[str, int]:
        return json.loads((self.data / "run.json").read_text())

    def output(self) -> str:
        return (self.data.parent / f"make-run-{self.port}.log").read_text(errors="replace")


def _login(base: str, username: str, password: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token, page
    form = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": token.group(1)}
    ).encode()
    request = urllib.request.Request(
        base + "login/", data=form, headers={"Referer": base + "login/"}
    )
    return opener.open(request).read().decode()


def _gone_soon(text: str, timeout: float = 15) -> list[str]:
    """Processes still mentioning ``text`` once they had a moment to exit (a postmaster's
    children may outlive it by a few hundred milliseconds under load)."""
    deadline = time.monotonic() + timeout
    while (left := _processes_mentioning(text)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def _wait_gone(pids: list[int], timeout: float = 30) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.2)
    return [p for p in pids if _alive(p)]


@pytest.fixture
def data(tmp_path: Path) -> Iterator[Path]:
    """A fresh data directory; whatever a failing test leaves running there is stopped."""
    data = tmp_path / "data"
    yield data
    for line in _processes_mentioning(str(data)):
        pid = int(line.split(":", 1)[0])
        if "postgres -D" not in line:
            os.kill(pid, signal.SIGKILL)
    from schemabuilder import embedded

    embedded.stop(data / "postgres")


def test_make_run_serves_the_app_and_stops_cleanly(data: Path) -> None:
    run = Run(data)
    health = run.wait_healthy()
    assert health["database"] == {"up": True} and health["worker"]["up"] is True  # type: ignore[index]

    # The demo target connects as its own role: nothing to warn about.
    assert health["target_warnings"] == {}

    dashboard = _login(run.url, "alice", "run-test-pw")
    assert "t_demo" in dashboard and "Your tenants" in dashboard
    assert "ready in" in run.output()

    # The README's shell example: the seed submitted and applied by the worker, as that role.
    seed = json.loads((ROOT / "tests/fixtures/seed/seed_patients_envelope.json").read_text())
    seed["meta"].update(tenant_id="t_demo", environment="dev")
    seed["subject"]["tenant_id"] = "t_demo"
    blueprint = data.parent / "seed.json"
    blueprint.write_text(json.dumps(seed))
    env = {
        k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("TARGET_")
    }
    submitted = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "submit",
            str(blueprint),
            "--tenant",
            "t_demo",
            "--wait",
            "60",
        ],
        cwd=ROOT,
        env={**env, "SB_DATA_DIR": str(data)},
        capture_output=True,
        text=True,
    )
    assert json.loads(submitted.stdout)["result"]["status"] == "applied", submitted.stderr

    pids = list(run.state().values())
    os.killpg(run.proc.pid, signal.SIGTERM)  # what Ctrl-C does to the foreground group
    assert _wait_gone(pids) == [], run.output()
    assert _gone_soon(str(data)) == []
    assert not (data / "run.json").exists()


def test_make_run_recovers_after_being_killed(data: Path) -> None:
    first = Run(data)
    first.wait_healthy()
    pids = first.state()
    os.kill(pids["launcher"], signal.SIGKILL)  # no chance to clean up
    # The kernel stops gunicorn and the worker with their parent; PostgreSQL survives.
    assert _wait_gone([pids["gunicorn"], pids["worker"]]) == []
    assert any("postgres -D" in p for p in _processes_mentioning(str(data / "postgres")))

    # The next run reuses the server that was left running.
    second = Run(data)
    second.wait_healthy()
    pids = second.state()
    # Now kill everything, PostgreSQL included: a stale postmaster.pid and run.json remain.
    os.killpg(second.proc.pid, signal.SIGKILL)
    assert _wait_gone(list(pids.values())) == []
    assert (data / "postgres" / "postmaster.pid").exists()

    third = Run(data)
    started = time.monotonic()
    third.wait_healthy()
    print(f"start after a kill with a stale pid file: {time.monotonic() - started:.1f}s")
    pids = third.state()
    os.killpg(third.proc.pid, signal.SIGTERM)
    assert _wait_gone(list(pids.values())) == [], third.output()
    assert _gone_soon(str(data)) == []
