"""The Celery application: configured from Django settings (the CELERY_ block)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "user2smart.settings")

app = Celery("user2smart")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="user2smart.ping")
def ping(key: str) -> None:
    """Record that a worker ran: the health of the queue, end to end."""
    from user2smart.health import record_ping

    record_ping(key)
