"""Secrets at rest: Fernet tokens under the keys of FIELD_ENCRYPTION_KEYS.

The first key encrypts, every key decrypts (MultiFernet), so keys are rotated by putting a new
key first, running `manage.py rotate_encryption_keys`, then dropping the old key.
"""

from __future__ import annotations

import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


class SecretUnreadable(Exception):
    """A stored secret cannot be decrypted with any configured key."""


@functools.cache
def _fernet(keys: tuple[bytes, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plain: str) -> str:
    return fernet().encrypt(plain.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode("ascii")).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "A stored secret cannot be decrypted: FIELD_ENCRYPTION_KEYS lacks the key it was "
            "written with."
        ) from None


def encrypt_bytes(plain: bytes) -> str:
    return fernet().encrypt(plain).decode("ascii")


def decrypt_bytes(token: str) -> bytes:
    try:
        return fernet().decrypt(token.encode("ascii"))
    except InvalidToken:
        raise SecretUnreadable(
            "Stored data cannot be decrypted: FIELD_ENCRYPTION_KEYS lacks the key it was "
            "written with."
        ) from None


class EncryptedTextField(models.TextField):
    """A text field whose database value is a Fernet token; Python sees the clear text.

    The empty string is stored as is (no secret to hide), so "not set" stays queryable.
    """

    description = "Text encrypted at rest"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)
