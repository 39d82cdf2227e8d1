"""Whether a new password is good enough: long, not among the common passwords, not the e-mail address.

The common passwords are the 20,000 most used ones, lower-cased, as shipped with Django
(`data/common-passwords.txt.gz`, see `data/README.md`); a password is compared lower-cased and without spaces.
"""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

from audit.errors import N_, DomainError
from audit.security import MIN_PASSWORD_LENGTH

COMMON_PASSWORDS = Path(__file__).parent / "data" / "common-passwords.txt.gz"
#: Longer than any pass phrase; Argon2 hashes any length, but a megabyte-long password is an attack.
MAX_PASSWORD_LENGTH = 1000
#: Fewer distinct characters than this ("aaaaaaaaaa", "1212121212") is a pattern, not a password.
MIN_DISTINCT_CHARACTERS = 5


@cache
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def check_password_strength(password: str, email: str = "") -> None:
    """Refuse a weak password with the reason (`DomainError`, translatable)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(N_("The password must be at least %(length)s characters long."), length=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise DomainError(N_("The password may be at most %(length)s characters long."), length=MAX_PASSWORD_LENGTH)
    folded = "".join(password.lower().split())
    if folded in common_passwords():
        raise DomainError(N_("This password is one of the most common passwords. Choose another one."))
    if email and folded in {email.lower(), email.lower().split("@")[0]}:
        raise DomainError(N_("The password must not be your e-mail address."))
    if len(set(folded)) < MIN_DISTINCT_CHARACTERS:
        raise DomainError(N_("The password has too few different characters. Choose a longer or more varied one."))
