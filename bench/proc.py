"""Run one command and measure it: wall time and the peak RSS of that process alone."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

TRAMPOLINE = Path(__file__).resolve().parent / "_trampoline.py"


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

    The command runs under bench/_trampoline.py, which times it and reads its peak RSS with
    ``wait4()``: see that file for why the command must not be forked from this process.
    Output goes to files, not pipes, so a chatty command never blocks on a full pipe.
    On timeout the whole process group is killed and RuntimeError raised.
    """
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        result_file = Path(tmp) / "result.json"
        out_path, err_path = Path(tmp) / "stdout", Path(tmp) / "stderr"
        argv = [sys.executable, "-I", "-S", str(TRAMPOLINE), str(result_file), *map(str, cmd)]
        with out_path.open("wb") as out, err_path.open("wb") as err:
            proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env, start_new_session=True)
            try:
                code = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                raise RuntimeError(f"{cmd[0]} did not finish in {timeout:.0f} s") from None
        measured = json.loads(result_file.read_text())
        return Run(
            returncode=code,
            seconds=measured["seconds"],
            maxrss_kib=measured["maxrss_kib"],
            stdout=out_path.read_text(errors="replace"),
            stderr=err_path.read_text(errors="replace"),
        )
