"""Settings for the test session: the product's settings with test-only defaults.

Values are put in the environment (not only in this module) so that the worker processes the
tests start see the same database, Redis and encryption keys.
"""

import os

from cryptography.fernet import Fernet

from tests.fixtures.services import ensure_redis

ensure_redis()

os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-" + Fernet.generate_key().decode())
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", Fernet.generate_key().decode())
os.environ.setdefault("CELERY_QUEUE", f"user2smart-tests-{os.getpid()}")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
# The tests' SFTP server listens on loopback; a test that checks the refusal turns this off.
os.environ.setdefault("SCHEDULE_PRIVATE_HOSTS", "true")
# Test sessions running side by side must not share a rate limiter (same company ids and keys).
os.environ.setdefault("RATE_LIMIT_REDIS_PREFIX", f"user2smart-tests-{os.getpid()}:ratelimit")

from user2smart.settings import *  # noqa: E402, F403
from user2smart.settings import BASE_DIR, DATABASES  # noqa: E402

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not memory: worker processes started by the tests must see the same database.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f"test-db-{os.getpid()}.sqlite3")}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
