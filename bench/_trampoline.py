"""Run a command as a grandchild and write its wall time and peak RSS to a file.

Usage (by bench.proc only): ``python -I -S _trampoline.py RESULT_FILE CMD...``

Why a middle process: Linux keeps a process's peak RSS across fork and exec, so a child
forked straight from the benchmark would report at least the benchmark's own RSS at the time
of the fork (a 1,000-table blueprint and its results in memory). Forked from this small
interpreter instead, the command's peak is its own, with a floor of this process's few MiB.
"""

import json
import os
import sys
import time


def main() -> int:
    result_file, cmd = sys.argv[1], sys.argv[2:]
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - start
    with open(result_file, "w") as out:
        json.dump({"seconds": seconds, "maxrss_kib": usage.ru_maxrss}, out)
    return os.waitstatus_to_exitcode(status) % 256


if __name__ == "__main__":
    sys.exit(main())
