"""WSGI entry point (gunicorn user2smart.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "user2smart.settings")

application = get_wsgi_application()
