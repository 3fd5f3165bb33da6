"""Encryption at rest for single columns (bank accounts), with a keyed hash for equality.

A value is stored as `enc1$<key id>$<base64 of nonce + AES-256-GCM ciphertext and tag>`. The AES
key is derived (HKDF-SHA256) from the secret that settings.FIELD_ENCRYPTION_KEYS holds under that
id; the first key encrypts, every listed key decrypts, so keys rotate without rewriting the table at
once (`manage.py reencrypt_fields` moves old rows to the new key). The column's purpose (e.g.
`bank_account`) is authenticated with the value, so a ciphertext copied into another kind of
column does not decrypt.

Equality lookups ("the same account at another enterprise") use a second column holding
`<key id>$<HMAC-SHA256>` under settings.FIELD_HASH_KEYS, a key of its own: `hash_candidates()` gives
the value's hash under every hash key, so a lookup still finds rows hashed under an older key.

An encrypted field refuses lookups other than `isnull` (an equality test on ciphertext would
silently find nothing): look up by the hash column instead.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os

from django.conf import settings
from django.core import validators
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import models

PREFIX = "enc1"
NONCE_BYTES = 12


class DecryptionError(Exception):
    """A stored value cannot be decrypted: an unknown key id, a wrong key or a changed value."""


@functools.lru_cache(maxsize=16)
def _aead(secret: str):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"hengyang-cbec field encryption"
    ).derive(secret.encode())
    return AESGCM(key)


def _keys() -> dict[str, str]:
    keys = settings.FIELD_ENCRYPTION_KEYS
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS holds no key")
    return keys


def current_key_id() -> str:
    return next(iter(_keys()))


def encrypt(plaintext: str, *, purpose: str) -> str:
    key_id = current_key_id()
    nonce = os.urandom(NONCE_BYTES)
    sealed = _aead(_keys()[key_id]).encrypt(nonce, plaintext.encode(), _aad(purpose, key_id))
    return f"{PREFIX}${key_id}${base64.urlsafe_b64encode(nonce + sealed).decode()}"


def decrypt(stored: str, *, purpose: str) -> str:
    from cryptography.exceptions import InvalidTag

    prefix, _sep, rest = stored.partition("$")
    key_id, _sep, body = rest.partition("$")
    if prefix != PREFIX or not body:
        raise DecryptionError("the stored value is not an encrypted value")
    secret = _keys().get(key_id)
    if secret is None:
        raise DecryptionError(f"no key {key_id!r} in FIELD_ENCRYPTION_KEYS")
    try:
        raw = base64.urlsafe_b64decode(body.encode())
        plain = _aead(secret).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(purpose, key_id))
    except (InvalidTag, ValueError):
        raise DecryptionError(f"the value does not decrypt with key {key_id!r}") from None
    return plain.decode()


def key_id_of(stored: str) -> str:
    """The key id a stored value was encrypted with ("" when it is not encrypted)."""
    prefix, _sep, rest = stored.partition("$")
    return rest.partition("$")[0] if prefix == PREFIX else ""


def _aad(purpose: str, key_id: str) -> bytes:
    return f"{PREFIX}|{purpose}|{key_id}".encode()


def keyed_hash(value: str, *, purpose: str, key_id: str | None = None) -> str:
    """`<key id>$<hex HMAC>` of the value under the current (or the named) hash key."""
    keys = settings.FIELD_HASH_KEYS
    if not keys:
        raise ImproperlyConfigured("FIELD_HASH_KEYS holds no key")
    key_id = key_id or next(iter(keys))
    digest = hmac.new(
        keys[key_id].encode(), f"{purpose}\x00{value}".encode(), hashlib.sha256
    ).hexdigest()
    return f"{key_id}${digest}"


def hash_candidates(value: str, *, purpose: str) -> list[str]:
    """The value's hash under every hash key: what a lookup matches."""
    return [
        keyed_hash(value, purpose=purpose, key_id=key_id) for key_id in settings.FIELD_HASH_KEYS
    ]


class EncryptedTextField(models.TextField):
    """A text column stored encrypted; reads give the plaintext, "" and NULL stay as they are."""

    def __init__(self, *args, purpose: str, **kwargs):
        self.purpose = purpose
        super().__init__(*args, **kwargs)
        if self.max_length is not None:  # of the plaintext; the column itself is unlimited text
            self.validators.append(validators.MaxLengthValidator(self.max_length))

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["purpose"] = self.purpose
        return name, path, args, kwargs

    def formfield(self, **kwargs):
        # A one-line input like a CharField's, not TextField's textarea.
        return super(models.TextField, self).formfield(max_length=self.max_length, **kwargs)

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        return decrypt(value, purpose=self.purpose)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return value
        return encrypt(value, purpose=self.purpose)

    def get_lookup(self, lookup_name):
        if lookup_name != "isnull":
            raise FieldError(
                f"{self.name} is encrypted: look it up by its keyed hash, not by {lookup_name!r}"
            )
        return super().get_lookup(lookup_name)


class KeyedHashField(models.CharField):
    """The keyed hash of another field of the same row, computed whenever the row is saved.

    A model using it saves through KeyedHashMixin, so that `save(update_fields=[source])` also
    writes the hash.
    """

    def __init__(self, *args, source: str, purpose: str, **kwargs):
        self.source, self.purpose = source, purpose
        kwargs.setdefault("max_length", 90)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("db_index", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.update(source=self.source, purpose=self.purpose)
        for default in ("max_length", "editable", "blank", "db_index"):
            kwargs.pop(default, None)
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.source)
        digest = keyed_hash(value, purpose=self.purpose) if value else ""
        setattr(model_instance, self.attname, digest)
        return digest


class KeyedHashMixin:
    """Adds each keyed hash to `update_fields` when its source field is saved."""

    def save(self, *args, update_fields=None, **kwargs):
        if update_fields is not None:
            update_fields = set(update_fields)
            for field in self._meta.concrete_fields:
                if isinstance(field, KeyedHashField) and field.source in update_fields:
                    update_fields.add(field.name)
        super().save(*args, update_fields=update_fields, **kwargs)


# --- Migrations ----------------------------------------------------------------------------------


def encrypt_column(schema_editor, *, table: str, column: str, hash_column: str, purpose: str):
    """Encrypt a column's plaintext rows in place and fill their hash (a data migration).

    Raw SQL: the historical model's field would try to decrypt the plaintext it reads.
    """
    connection = schema_editor.connection
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {qn(column)} FROM {qn(table)}")  # noqa: S608 - names are ours
        rows = cursor.fetchall()
        for pk, value in rows:
            if not value or value.startswith(f"{PREFIX}$"):
                continue
            cursor.execute(
                f"UPDATE {qn(table)} SET {qn(column)} = %s, {qn(hash_column)} = %s WHERE id = %s",  # noqa: S608
                [encrypt(value, purpose=purpose), keyed_hash(value, purpose=purpose), pk],
            )


def decrypt_column(schema_editor, *, table: str, column: str, hash_column: str, purpose: str):
    """The reverse of encrypt_column: plaintext back (needs the keys that encrypted it)."""
    connection = schema_editor.connection
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {qn(column)} FROM {qn(table)}")  # noqa: S608 - names are ours
        rows = cursor.fetchall()
        for pk, value in rows:
            if not value or not value.startswith(f"{PREFIX}$"):
                continue
            cursor.execute(
                f"UPDATE {qn(table)} SET {qn(column)} = %s, {qn(hash_column)} = '' WHERE id = %s",  # noqa: S608
                [decrypt(value, purpose=purpose), pk],
            )


def reencrypt_all(*, dry_run: bool = False) -> dict[str, int]:
    """Move every encrypted value to the current encryption key and every keyed hash to the current
    hash key (after a rotation). {"app.Model.field": rows changed}; the keys of the old values must
    still be listed."""
    from django.apps import apps
    from django.db import connection, transaction

    qn = connection.ops.quote_name
    key_id = current_key_id()
    hash_key_id = next(iter(settings.FIELD_HASH_KEYS))
    changed: dict[str, int] = {}
    for model in apps.get_models():
        hashes = {f.source: f for f in model._meta.concrete_fields if isinstance(f, KeyedHashField)}
        for field in model._meta.concrete_fields:
            if not isinstance(field, EncryptedTextField):
                continue
            hash_field = hashes.get(field.name)
            table, column = qn(model._meta.db_table), qn(field.column)
            pk = qn(model._meta.pk.column)
            hash_column = qn(hash_field.column) if hash_field else "''"
            count = 0
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SELECT {pk}, {column}, {hash_column} FROM {table}")  # noqa: S608
                for row_pk, stored, digest in cursor.fetchall():
                    if not stored:
                        continue
                    stale_hash = hash_field and not (digest or "").startswith(f"{hash_key_id}$")
                    if key_id_of(stored) == key_id and not stale_hash:
                        continue
                    count += 1
                    if dry_run:
                        continue
                    plain = decrypt(stored, purpose=field.purpose)
                    values = [encrypt(plain, purpose=field.purpose)]
                    assignments = f"{column} = %s"
                    if hash_field:
                        assignments += f", {hash_column} = %s"
                        values.append(keyed_hash(plain, purpose=hash_field.purpose))
                    cursor.execute(
                        f"UPDATE {table} SET {assignments} WHERE {pk} = %s",  # noqa: S608
                        [*values, row_pk],
                    )
            changed[f"{model._meta.label}.{field.name}"] = count
    return changed
