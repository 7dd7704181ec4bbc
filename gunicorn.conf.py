"""gunicorn's settings for the web tier, read from the working directory (the repository root,
where `make run` and the README's production command start it). Command-line options win.

Requests may wait for a proposal's result (`?wait=`, at most API_MAX_WAIT_SECONDS = 60 s, and
the webhook waits 30 s by default), so:
- a worker's timeout must be longer than the longest wait plus planning, or gunicorn kills the
  worker mid-answer (its default is 30 s);
- each worker serves several requests at once with threads, so a few waiting callers do not
  hold up everyone else (a waiting request sleeps; it does not use the CPU).
"""

import os

worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
