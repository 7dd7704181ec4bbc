"""Run one command and measure it: wall time and the peak RSS of that process alone."""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Run:
    """What one command did: exit code, seconds of wall time, peak RSS, and its output."""

    returncode: int
    seconds: float
    maxrss_kib: int
    stdout: str
    stderr: str

    def check(self, what: str, ok_codes: tuple[int, ...] = (0,)) -> Run:
        """``self``, or RuntimeError with the tail of stderr when the command failed.

        Exit codes in ``ok_codes`` count as success (migra exits 2 when it found differences).
        """
        if self.returncode not in ok_codes:
            tail = (self.stderr or self.stdout)[-2000:]
            raise RuntimeError(f"{what} failed (exit {self.returncode}):\n{tail}")
        return self


def measure(
    cmd: Sequence[str | Path],
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 1800,
) -> Run:
    """Run ``cmd`` to completion and measure it.

    The peak RSS comes from ``wait4()`` on that one child, not from RUSAGE_CHILDREN, whose
    maximum would be the largest of every child this process ever had. Output goes to files,
    not pipes, so a chatty command can never block on a full pipe while we wait for it.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen([str(c) for c in cmd], stdout=out, stderr=err, env=env)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        proc.returncode = code  # reaped by wait4: tell Popen so it never waits again
        out.seek(0)
        err.seek(0)
        return Run(
            returncode=code,
            seconds=seconds,
            maxrss_kib=usage.ru_maxrss,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
        )
