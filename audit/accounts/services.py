"""Creating organisations and users."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.accounts import signals
from audit.accounts.models import Membership, Organisation, Role, User
from audit.errors import DomainError
from audit.events import announce
from audit.security import MIN_PASSWORD_LENGTH

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_organisation(session: Session, slug: str, name: str) -> Organisation:
    slug = slug.strip().lower()
    if not _SLUG.match(slug):
        raise DomainError(f"invalid slug '{slug}': use 2–40 lower-case letters, digits and dashes")
    if not name.strip():
        raise DomainError("the organisation needs a name")
    if session.scalar(select(Organisation).where(Organisation.slug == slug)):
        raise DomainError(f"an organisation with the slug '{slug}' already exists")
    organisation = Organisation(slug=slug, name=name.strip())
    session.add(organisation)
    session.flush()
    return organisation


def organisation_by_slug(session: Session, slug: str) -> Organisation:
    organisation = session.scalar(select(Organisation).where(Organisation.slug == slug.strip().lower()))
    if organisation is None:
        raise DomainError(f"no organisation with the slug '{slug}'")
    return organisation


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters long")


def create_user(
    session: Session, organisation: Organisation, email: str, role: Role | str, password: str, name: str | None = None
) -> User:
    """Create a user with a role in `organisation`, or give an existing user a role there."""
    email = normalise_email(email)
    if not _EMAIL.match(email):
        raise DomainError(f"invalid e-mail address '{email}'")
    try:
        role = Role(role)
    except ValueError:
        raise DomainError(f"unknown role '{role}': use one of {', '.join(r.value for r in Role)}") from None
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        check_password_strength(password)
        user = User(email=email, name=(name or email.split("@")[0]).strip())
        user.set_password(password)
        session.add(user)
    elif any(m.organisation_id == organisation.id for m in user.memberships):
        raise DomainError(f"{email} is already a member of {organisation.slug}")
    membership = Membership(user=user, organisation=organisation, role=role)
    session.add(membership)
    session.flush()
    announce(
        signals.role_granted,
        session,
        None,
        organisation_id=organisation.id,
        object_id=membership.id,
        after={"user_id": user.id, "email": user.email, "role": role},
    )
    return user
