"""Password hashing (Argon2id, the current OWASP recommendation) and token helpers."""

from __future__ import annotations

import hashlib
import secrets
from functools import cache

from argon2 import Parameters, PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, current_app, has_app_context

from audit.settings import SettingsError

#: argon2-cffi's defaults: RFC 9106's recommendation for memory-constrained systems (Argon2id, t=3, 64 MiB, p=4).
_hasher = PasswordHasher()
#: Flask config key: cheaper Argon2 parameters (an `argon2.Parameters`) for the test suite only. Settings never read
#: it from the environment, and a production app refuses to start with it.
TEST_HASHING = "TRYGGAHUS_TEST_PASSWORD_HASHING"
#: Where the app keeps its hasher (`app.extensions`).
HASHER_EXTENSION = "tryggahus.password_hasher"

MIN_PASSWORD_LENGTH = 10


def init_password_hashing(app: Flask, production: bool) -> None:
    parameters: Parameters | None = app.config.get(TEST_HASHING)
    if parameters is None:
        app.extensions[HASHER_EXTENSION] = _hasher
        return
    if production:
        raise SettingsError(f"{TEST_HASHING} weakens password hashing: it is for the test suite, never production")
    app.extensions[HASHER_EXTENSION] = PasswordHasher.from_parameters(parameters)


def _current() -> PasswordHasher:
    """The app's hasher; the default one outside an app (a hash names its own cost, so either verifies any)."""
    if has_app_context():
        hasher: PasswordHasher = current_app.extensions.get(HASHER_EXTENSION, _hasher)
        return hasher
    return _hasher


def hash_password(password: str) -> str:
    return _current().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _current().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash(secrets.token_urlsafe(16))


def verify_password_or_dummy(password_hash: str | None, password: str) -> bool:
    """Verify against the user's hash, or (no such user) against a dummy one that never matches.

    An unknown account then costs the same Argon2 work as a known one, so the answer's timing does not tell
    whether an e-mail address has an account.
    """
    if password_hash is None:
        verify_password(_dummy_hash(_current()), password)
        return False
    return verify_password(password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    return _current().check_needs_rehash(password_hash)


def new_token(nbytes: int = 32) -> str:
    """A URL-safe token from the operating system's cryptographic random source."""
    return secrets.token_urlsafe(nbytes)


def token_digest(token: str) -> str:
    """How a bearer token is stored: only its sha256, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()
