"""Encryption of secret columns with a key ring instead of SECRET_KEY.

django-cryptography-5 encrypts with a key derived from CRYPTOGRAPHY_KEY but
signs with Django's SECRET_KEY, and knows one key only: rotating either key
makes every stored secret unreadable. Here each key in the ring derives both
its AES key and its MAC key, the newest key encrypts, and every key decrypts,
so keys can be rotated with `manage.py rotate_encryption_keys` while the
portal keeps running, and SECRET_KEY never touches stored secrets.

Historical models in data migrations still use the library's own cipher;
a migration that reads or writes an encrypted column must use KEY_RING.
"""

import pickle
import threading
from base64 import b64decode, b64encode
from functools import cached_property

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django_cryptography.core.signing import BadSignature, FernetSigner
from django_cryptography.fields import encrypt
from django_cryptography.utils.crypto import FernetBytes, InvalidToken

ITERATIONS = 100_000
# Marks a serialized (dumpdata) value as ciphertext; see `encrypted`.
SERIALIZED_PREFIX = "keyring-fernet:"


class UndecryptableValue(Exception):
    """No key of the ring decrypts this value."""


def _derive(key: str, purpose: bytes) -> bytes:
    kdf = PBKDF2HMAC(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"pagerduty-portal:" + purpose,
        iterations=ITERATIONS,
    )
    return kdf.derive(key.encode())


def _cipher(key: str) -> FernetBytes:
    return FernetBytes(
        key=_derive(key, b"aes"), signer=FernetSigner(key=_derive(key, b"mac"))
    )


class KeyRing:
    """Encrypt with the newest key; decrypt with whichever key matches.

    Keys are read from settings.FIELD_ENCRYPTION_KEYS (newest first) on first
    use, never at import time.
    """

    def __init__(self):
        self._lock = threading.Lock()

    @cached_property
    def _ciphers(self) -> list[tuple[str, FernetBytes]]:
        with self._lock:
            keys = [key for key in settings.FIELD_ENCRYPTION_KEYS if key]
            if not keys:
                raise ImproperlyConfigured("CRYPTOGRAPHY_KEY is not set.")
            return [(key, _cipher(key)) for key in keys]

    def reset(self) -> None:
        """Forget derived keys, e.g. after settings changed in a test."""
        self.__dict__.pop("_ciphers", None)

    def encrypt(self, data: bytes) -> bytes:
        return self._ciphers[0][1].encrypt(data)

    def decrypt(self, data: bytes, ttl: int | None = None) -> bytes:
        return self.decrypt_with_index(data, ttl)[0]

    def decrypt_with_index(self, data: bytes, ttl: int | None = None):
        """Return the plaintext and the position of the key that opened it."""
        for index, (_key, cipher) in enumerate(self._ciphers):
            try:
                return cipher.decrypt(data, ttl), index
            except (BadSignature, InvalidToken):
                continue
        raise UndecryptableValue("no configured encryption key opens this value")


KEY_RING = KeyRing()


def encrypted(field):
    """Return `field` encrypted at rest with the portal's key ring.

    Serializers (dumpdata, fixtures) get ciphertext too: the library's field
    would write the plaintext into every backup (SECURITY-TESTS T76).
    """
    field = encrypt(field)
    field._fernet = KEY_RING
    to_python = field.to_python

    def value_to_string(obj) -> str:
        value = pickle.dumps(field.value_from_object(obj))
        return SERIALIZED_PREFIX + b64encode(KEY_RING.encrypt(value)).decode()

    def to_python_or_decrypt(value):
        if isinstance(value, str) and value.startswith(SERIALIZED_PREFIX):
            data = b64decode(value.removeprefix(SERIALIZED_PREFIX))
            # The MAC is checked before anything is unpickled.
            return pickle.loads(KEY_RING.decrypt(data))  # noqa: S301
        return to_python(value)

    field.value_to_string = value_to_string
    field.to_python = to_python_or_decrypt
    return field
