import time
import uuid

import pytest

from user2smart.celery import ping
from user2smart.health import ping_received


@pytest.mark.integration
def test_a_task_sent_through_redis_is_run_by_a_real_worker(celery_worker):
    key = uuid.uuid4().hex
    ping.delay(key)

    deadline = time.monotonic() + 20
    while not ping_received(key) and time.monotonic() < deadline:
        time.sleep(0.1)

    assert ping_received(key), celery_worker.output()
    assert "user2smart.ping" in celery_worker.output()
