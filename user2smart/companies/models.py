"""Companies (SmartRecruiters tenants), their credentials, and who may act for them."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from user2smart.companies.encryption import EncryptedTextField

DEFAULT_API_URL = "https://api.smartrecruiters.com"


class Company(models.Model):
    class Credential(models.TextChoices):
        API_KEY = "api_key", "API key"
        OAUTH_CLIENT = "oauth_client", "OAuth client (client credentials)"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    api_url = models.URLField(
        "SmartRecruiters API URL",
        default=DEFAULT_API_URL,
        help_text="https://api.smartrecruiters.com in production.",
    )
    credential_type = models.CharField(
        max_length=20, choices=Credential.choices, default=Credential.API_KEY
    )
    api_key = EncryptedTextField(blank=True, default="")
    oauth_client_id = models.CharField("OAuth client id", max_length=200, blank=True, default="")
    oauth_client_secret = EncryptedTextField(blank=True, default="")
    rate_limit_rps = models.PositiveSmallIntegerField(
        "requests per second",
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text="SmartRecruiters allows 10 per second per credential.",
    )
    rate_limit_concurrency = models.PositiveSmallIntegerField(
        "concurrent requests",
        default=8,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text="SmartRecruiters allows 8 requests in flight per credential.",
    )
    access_key_digest = models.CharField(
        max_length=64,
        blank=True,
        default="",
        db_index=True,
        editable=False,
        help_text="SHA-256 of the access key for 'Sign in with SmartRecruiters'; the key itself "
        "is shown once, when issued.",
    )
    # Full sync: who may be deactivated for being missing from a file, and how many at once.
    missing_limit_count = models.PositiveIntegerField(
        "deactivation limit (people)",
        default=10,
        help_text="A run deactivates at most this many people missing from its file (or the "
        "share below, whichever is larger); above it, it deactivates none and holds them.",
    )
    missing_limit_percent = models.PositiveSmallIntegerField(
        "deactivation limit (% of active users)",
        default=5,
        validators=[MaxValueValidator(100)],
    )
    missing_admins = models.BooleanField(
        "deactivate missing administrators",
        default=False,
        help_text="Off: users with the ADMINISTRATOR role are never deactivated for being "
        "missing from a file.",
    )
    missing_managed_only = models.BooleanField(
        "only people User2Smart manages",
        default=False,
        help_text="On: only users that User2Smart created or updated before are deactivated "
        "for being missing (for companies that keep some accounts by hand).",
    )
    protected_emails = models.TextField(
        blank=True,
        default="",
        help_text="Never deactivated for being missing from a file: one email address a line.",
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "companies"

    def __str__(self) -> str:
        return self.name

    @property
    def has_credential(self) -> bool:
        if self.credential_type == self.Credential.API_KEY:
            return bool(self.api_key)
        return bool(self.oauth_client_id and self.oauth_client_secret)

    @property
    def credential_id(self) -> str:
        """A stable, non-secret name for the credential: the rate limiter's key."""
        if self.credential_type == self.Credential.API_KEY:
            secret = self.api_key
        else:
            secret = f"{self.oauth_client_id}:{self.oauth_client_secret}"
        return hashlib.sha256(secret.encode()).hexdigest()[:16]

    @property
    def protected_email_set(self) -> frozenset[str]:
        return frozenset(
            line.strip().lower() for line in self.protected_emails.splitlines() if line.strip()
        )

    def missing_limit(self, active_users: int) -> int:
        """The most people one run may deactivate for being missing from its file."""
        return max(self.missing_limit_count, active_users * self.missing_limit_percent // 100)

    def has_access_key(self) -> bool:
        return bool(self.access_key_digest)

    @staticmethod
    def digest_access_key(access_key: str) -> str:
        return hashlib.sha256(access_key.strip().encode()).hexdigest()


def person_label(user) -> str:
    """Who a user is, for operators: "First Last <email>" (the user name when both are blank).

    People who signed in with SmartRecruiters have a user name made of their SmartRecruiters
    id (``sr-64b7...``), which says nothing to a person.
    """
    name = user.get_full_name()
    if name and user.email:
        return f"{name} <{user.email}>"
    return name or user.email or user.get_username()


def person_name(user) -> str:
    """Who a user is, for the person themself: "First Last" (for people who signed in with
    SmartRecruiters, their SmartRecruiters name), else their email, else their user name."""
    return user.get_full_name() or user.email or user.get_username()


class Membership(models.Model):
    """A person who may act for a company on the web pages."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="memberships")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "company"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{person_label(self.user)} in {self.company}"
