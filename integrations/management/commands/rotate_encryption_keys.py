"""Re-encrypt every encrypted column and MFA secret under the newest key.

Each row is rewritten in its own transaction, and rows already under the
newest key are left alone, so the command can be interrupted and re-run at
any time. The runbook is in the README ("Rotating keys").
"""

import logging

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from integrations.crypto import KEY_RING, UndecryptableValue
from integrations.mfa import authenticator_reencrypt

logger = logging.getLogger(__name__)


def encrypted_columns():
    """Return (model, [field, …]) for every model with key-ring columns."""
    found = []
    for model in apps.get_models():
        fields = [
            field
            for field in model._meta.concrete_fields
            if getattr(field, "_fernet", None) is KEY_RING
        ]
        if fields:
            found.append((model, fields))
    return found


class Command(BaseCommand):
    help = "Re-encrypt stored secrets and tokens under the newest encryption key."

    def add_arguments(self, parser):
        parser.add_argument(
            "--limit",
            type=int,
            default=None,
            help="Stop after rewriting this many rows (rotate in slices).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count, but change nothing."
        )

    def handle(self, *args, limit=None, dry_run=False, **options):
        KEY_RING.reset()
        changed = current = failed = 0
        for model, fields in encrypted_columns():
            for pk in model.objects.order_by("pk").values_list("pk", flat=True):
                if limit is not None and changed >= limit:
                    break
                outcome = self._rotate_row(model, fields, pk, dry_run=dry_run)
                changed += outcome == "changed"
                current += outcome == "current"
                failed += outcome == "failed"
        for pk in self._authenticators().values_list("pk", flat=True):
            if limit is not None and changed >= limit:
                break
            outcome = self._rotate_authenticator(pk, dry_run=dry_run)
            changed += outcome == "changed"
            current += outcome == "current"
            failed += outcome == "failed"
        verb = "Would re-encrypt" if dry_run else "Re-encrypted"
        self.stdout.write(
            f"{verb} {changed} rows; {current} already under the current key; "
            f"{failed} could not be decrypted."
        )
        if failed:
            raise CommandError(
                f"{failed} rows could not be decrypted with any configured key; "
                "add the missing key to CRYPTOGRAPHY_KEY_FALLBACKS and run again."
            )

    def _rotate_row(self, model, fields, pk, *, dry_run: bool) -> str:
        quote = connection.ops.quote_name
        table = quote(model._meta.db_table)
        columns = [quote(field.column) for field in fields]
        pk_column = quote(model._meta.pk.column)
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        select = (
            f"SELECT {', '.join(columns)} FROM {table} WHERE {pk_column} = %s{lock}"  # noqa: S608
        )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(select, [pk])
            row = cursor.fetchone()
            if row is None:
                return "current"
            updates = {}
            try:
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    plaintext, index = KEY_RING.decrypt_with_index(bytes(value))
                    if index > 0:
                        updates[column] = KEY_RING.encrypt(plaintext)
            except UndecryptableValue:
                logger.error("Cannot decrypt %s pk=%s", model._meta.label, pk)
                return "failed"
            if not updates:
                return "current"
            if not dry_run:
                assignments = ", ".join(f"{column} = %s" for column in updates)
                cursor.execute(
                    f"UPDATE {table} SET {assignments} WHERE {pk_column} = %s",  # noqa: S608
                    [connection.Database.Binary(v) for v in updates.values()] + [pk],
                )
            return "changed"

    def _authenticators(self):
        # allauth keeps TOTP secrets and recovery seeds inside a JSON column.
        from allauth.mfa.models import Authenticator

        return Authenticator.objects.order_by("pk")

    def _rotate_authenticator(self, pk, *, dry_run: bool) -> str:
        with transaction.atomic():
            authenticator = self._authenticators().select_for_update().get(pk=pk)
            try:
                changed = authenticator_reencrypt(
                    authenticator=authenticator, save=not dry_run
                )
            except UndecryptableValue:
                logger.error("Cannot decrypt mfa.Authenticator pk=%s", pk)
                return "failed"
            return "changed" if changed else "current"
