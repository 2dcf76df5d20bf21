"""What `/healthz` checks: the database and Redis, each answered in a few seconds at most."""

from __future__ import annotations

import logging

import redis
from celery import current_app
from django.conf import settings
from django.db import DatabaseError, connection

from user2smart.redis_client import get_redis

log = logging.getLogger(__name__)

PING_TTL_SECONDS = 600


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        log.warning("health: database unreachable: %s", exc.__class__.__name__)
        return "down"
    return "ok"


def check_redis() -> str:
    try:
        get_redis().ping()
    except redis.RedisError as exc:
        log.warning("health: redis unreachable: %s", exc.__class__.__name__)
        return "down"
    return "ok"


def record_ping(key: str) -> None:
    """Called by the `user2smart.ping` task: proves a worker picked a message off the queue."""
    get_redis().set(f"user2smart:ping:{key}", "pong", ex=PING_TTL_SECONDS)


def ping_received(key: str) -> bool:
    return get_redis().get(f"user2smart:ping:{key}") == b"pong"


def workers_listening() -> bool:
    """Whether at least one Celery worker consumes this deployment's queue (asked in 1.5 s)."""
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    try:
        replies = current_app.control.inspect(timeout=1.5).active_queues() or {}
    except OSError:
        return False
    return any(q.get("name") == queue for queues in replies.values() for q in queues)
