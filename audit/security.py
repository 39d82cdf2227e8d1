"""Password hashing (Argon2id, the current OWASP recommendation) and token helpers."""

from __future__ import annotations

import hashlib
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def verify_password_or_dummy(password_hash: str | None, password: str) -> bool:
    """Verify against the user's hash, or (no such user) against a dummy one that never matches.

    An unknown account then costs the same Argon2 work as a known one, so the answer's timing does not tell
    whether an e-mail address has an account.
    """
    if password_hash is None:
        verify_password(_dummy_hash(), password)
        return False
    return verify_password(password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_token(nbytes: int = 32) -> str:
    """A URL-safe token from the operating system's cryptographic random source."""
    return secrets.token_urlsafe(nbytes)


def token_digest(token: str) -> str:
    """How a bearer token is stored: only its sha256, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()
