"""User2Smart: keeps a company's SmartRecruiters users in line with its HR files."""

from user2smart.celery import app as celery_app

__all__ = ["celery_app"]
