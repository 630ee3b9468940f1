"""The RS256 key that signs ID tokens: one per process, published as JWKS."""

import base64
import functools
import hashlib

from cryptography.hazmat.primitives.asymmetric import rsa


@functools.cache
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def key_id() -> str:
    numbers = signing_key().public_key().public_numbers()
    return hashlib.sha256(_b64(numbers.n).encode()).hexdigest()[:16]


def jwks() -> dict:
    """Return the public key set in JWK form (RFC 7517)."""
    numbers = signing_key().public_key().public_numbers()
    return {
        "keys": [
            {
                "kty": "RSA",
                "use": "sig",
                "alg": "RS256",
                "kid": key_id(),
                "n": _b64(numbers.n),
                "e": _b64(numbers.e),
            }
        ]
    }
