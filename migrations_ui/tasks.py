"""Background jobs, run by procrastinate's worker (``manage.py worker``)."""

from __future__ import annotations

import socket

from django.utils import timezone
from procrastinate.contrib.django import app

from migrations_ui.models import WorkerHeartbeat


def worker_identity() -> str:
    import os

    return f"{socket.gethostname()}:{os.getpid()}"


# Every 10 seconds (sixth cron column). The row proves the worker executes jobs, not merely
# that its process is alive; /healthz reads both.
@app.periodic(cron="* * * * * */10", periodic_id="heartbeat")
@app.task(queue="heartbeat", name="heartbeat", pass_context=False)
def heartbeat(timestamp: int) -> None:
    WorkerHeartbeat.objects.update_or_create(
        worker=worker_identity(), defaults={"beat_at": timezone.now()}
    )
