"""Start the background worker: the same command for ``make run`` and for production."""

from __future__ import annotations

import asyncio
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from procrastinate.contrib.django import app, django_connector


class Command(BaseCommand):
    help = "Run the background worker (procrastinate) that applies proposals."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--concurrency", type=int, default=4)
        parser.add_argument("--name", default=None, help="Worker name shown in logs.")

    def handle(self, *args: Any, concurrency: int, name: str | None, **options: Any) -> None:
        connector = app.connector
        assert isinstance(connector, django_connector.DjangoConnector)
        with app.replace_connector(connector.get_worker_connector()) as worker_app:
            self.stdout.write(f"worker starting (concurrency {concurrency})")

            async def run() -> None:
                async with worker_app.open_async():
                    await worker_app.run_worker_async(
                        concurrency=concurrency,
                        name=name,
                        install_signal_handlers=True,
                        # Heartbeat several times per stall period, so only a dead worker
                        # ever looks stalled.
                        update_heartbeat_interval=min(5.0, settings.WORKER_STALLED_AFTER_S / 3),
                        stalled_worker_timeout=settings.WORKER_STALLED_AFTER_S,
                    )

            asyncio.run(run())
        self.stdout.write("worker stopped")
