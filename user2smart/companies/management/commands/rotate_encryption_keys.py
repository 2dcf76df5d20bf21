"""`manage.py rotate_encryption_keys`: re-encrypt every stored secret with the first key."""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from user2smart.companies.encryption import EncryptedTextField


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret with the first key of FIELD_ENCRYPTION_KEYS. Put the new "
        "key first, run this, then remove the old key."
    )

    def handle(self, *args, **options) -> None:
        total = 0
        for model in apps.get_models():
            fields = [f.name for f in model._meta.fields if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            count = 0
            with transaction.atomic():
                # Reading decrypts with any key; writing encrypts with the first one.
                rows = model.objects.select_for_update().values_list("pk", *fields)
                for pk, *secrets in rows.iterator():
                    values = dict(zip(fields, secrets, strict=True))
                    if any(values.values()):
                        model.objects.filter(pk=pk).update(**values)
                        count += 1
            total += count
            self.stdout.write(f"{model._meta.label}: {count} rows re-encrypted.")
        self.stdout.write(f"Done: {total} rows re-encrypted with the first key.")
