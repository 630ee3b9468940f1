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

import logging
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


logger = logging.getLogger(__name__)


class UndecryptableValue(Exception):
    """No key of the ring decrypts this value."""


class _Undecryptable:
    """Stands in for a stored value that no configured key decrypts.

    Loading such a row must not take the page down (the tenant is told to
    reconnect instead), and the stand-in must never be written back: the
    key ring refuses to encrypt it.
    """

    def __bool__(self):
        return False

    def __str__(self):
        return ""

    def __repr__(self):
        return "<undecryptable>"

    def __reduce__(self):
        return "UNDECRYPTABLE"


UNDECRYPTABLE = _Undecryptable()
_UNDECRYPTABLE_PICKLE = pickle.dumps(UNDECRYPTABLE)


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
        if data == _UNDECRYPTABLE_PICKLE:
            raise UndecryptableValue(
                "refusing to store a value that could not be decrypted"
            )
        return self._ciphers[0][1].encrypt(data)

    def decrypt(self, data: bytes, ttl: int | None = None) -> bytes:
        """Return the plaintext, or the pickled UNDECRYPTABLE stand-in."""
        try:
            return self.decrypt_with_index(data, ttl)[0]
        except UndecryptableValue:
            logger.error(
                "A stored secret cannot be decrypted with any configured key; "
                "restore the key in CRYPTOGRAPHY_KEY_FALLBACKS or re-enter it."
            )
            return _UNDECRYPTABLE_PICKLE

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
    get_prep_value = field.get_prep_value

    def refuse_undecryptable(value):
        # Text fields would store str(UNDECRYPTABLE), an empty string.
        if value is UNDECRYPTABLE:
            raise UndecryptableValue(
                "refusing to store a value that could not be decrypted"
            )
        return get_prep_value(value)

    def value_to_string(obj) -> str:
        value = pickle.dumps(field.value_from_object(obj))
        return SERIALIZED_PREFIX + b64encode(KEY_RING.encrypt(value)).decode()

    def to_python_or_decrypt(value):
        if isinstance(value, str) and value.startswith(SERIALIZED_PREFIX):
            data = b64decode(value.removeprefix(SERIALIZED_PREFIX))
            # The MAC is checked before anything is unpickled.
            return pickle.loads(KEY_RING.decrypt(data))  # noqa: S301
        return to_python(value)

    field.get_prep_value = refuse_undecryptable
    field.value_to_string = value_to_string
    field.to_python = to_python_or_decrypt
    return field


# Marks a text secret encrypted by `encrypt_text` (MFA secrets, which allauth
# keeps inside a JSON column rather than in a field of ours).
TEXT_PREFIX = "keyring:"


def encrypt_text(text: str) -> str:
    """Return `text` encrypted under the newest key, as storable text."""
    return TEXT_PREFIX + b64encode(KEY_RING.encrypt(text.encode())).decode()


def decrypt_text(value: str) -> str:
    """Return the plaintext of `encrypt_text`'s output.

    Raise UndecryptableValue when no configured key opens it, or when the
    value was never encrypted: plaintext secrets are not accepted.
    """
    if not isinstance(value, str) or not value.startswith(TEXT_PREFIX):
        raise UndecryptableValue("not an encrypted value")
    data = b64decode(value.removeprefix(TEXT_PREFIX))
    return KEY_RING.decrypt_with_index(data)[0].decode()


def reencrypt_text(value: str) -> str | None:
    """Return `value` encrypted under the newest key, or None if it already is.

    Raise UndecryptableValue like `decrypt_text`.
    """
    if not isinstance(value, str) or not value.startswith(TEXT_PREFIX):
        raise UndecryptableValue("not an encrypted value")
    data = b64decode(value.removeprefix(TEXT_PREFIX))
    plaintext, index = KEY_RING.decrypt_with_index(data)
    return encrypt_text(plaintext.decode()) if index > 0 else None
