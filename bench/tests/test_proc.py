"""Measured subprocesses: exit codes, output, and a peak RSS that belongs to that child."""

from __future__ import annotations

import sys

import pytest

from bench.proc import measure


def _touched(mib: int) -> bytearray:
    block = bytearray(mib * 1024 * 1024)
    block[::4096] = b"x" * len(block[::4096])  # really resident, not just reserved
    return block


def test_it_reports_the_peak_rss_of_that_child_alone() -> None:
    grow = "b = bytearray(80 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096])"
    big = measure([sys.executable, "-c", grow]).check("big")
    held = _touched(200)  # a big benchmark process must not inflate its children's peaks
    small = measure([sys.executable, "-c", "pass"]).check("small")
    assert big.maxrss_kib > 80 * 1024
    assert small.maxrss_kib < 50 * 1024 < len(held) // 1024


def test_it_keeps_output_and_the_exit_code() -> None:
    run = measure(
        [
            sys.executable,
            "-c",
            "import sys; print('out'); print('err', file=sys.stderr); sys.exit(2)",
        ]
    )
    assert (run.returncode, run.stdout.strip(), run.stderr.strip()) == (2, "out", "err")
    assert run.check("two is fine here", ok_codes=(0, 2)) is run
    with pytest.raises(RuntimeError, match="exit 2"):
        run.check("strict")
