"""Password hashing (Argon2id, the current OWASP recommendation) and token helpers."""

from __future__ import annotations

import hashlib
import secrets

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


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_token(nbytes: int = 32) -> str:
    """A URL-safe token from the operating system's cryptographic random source."""
    return secrets.token_urlsafe(nbytes)


def token_digest(token: str) -> str:
    """How a bearer token is stored: only its sha256, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()
