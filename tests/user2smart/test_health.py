import pytest
from django.test import override_settings

from tests.fixtures.services import free_port
from user2smart.redis_client import get_redis


@pytest.fixture
def fresh_redis_client():
    get_redis.cache_clear()
    yield
    get_redis.cache_clear()


@pytest.mark.django_db
def test_healthz_says_ok_when_database_and_redis_answer(client, fresh_redis_client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "redis": "ok"}


@pytest.mark.django_db
def test_healthz_names_redis_when_it_is_down(client, fresh_redis_client):
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"):
        get_redis.cache_clear()
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"database": "ok", "redis": "down"}
