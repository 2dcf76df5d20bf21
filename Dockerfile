# One image for web, worker, beat and the SmartRecruiters emulator.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

RUN useradd --create-home --uid 1000 user2smart

COPY pyproject.toml constraints.txt README.md ./
COPY user2smart ./user2smart
COPY imports ./imports
COPY scheduler ./scheduler
RUN pip install -c constraints.txt .
COPY manage.py ./
COPY docs ./docs

RUN DJANGO_DEBUG=true python manage.py collectstatic --noinput

USER user2smart
EXPOSE 8000
CMD ["gunicorn", "user2smart.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60"]
